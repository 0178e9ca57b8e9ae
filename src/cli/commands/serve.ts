/**
 * `exray serve`: the page, the phone link and the store from one Node process (src/server). Builds
 * the page first when dist/ is missing or older than its sources.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import QRCode from 'qrcode';
import { ExrayInputError } from '../../errors.ts';
import { indexModels } from '../../server/models.ts';
import { adbReverse, lanAddresses, selfSignedCertificate } from '../../server/network.ts';
import { agentLine, startServer } from '../../server/serve.ts';

export interface ServeCommandOptions {
  port: number;
  lan?: boolean;
  local?: boolean;
  data: string;
  https?: boolean;
  cert?: string;
  key?: string;
  adb?: boolean;
  build: boolean;
  reference: 'cpu' | 'wasm' | 'none';
  resumeGrace: number;
  newAgentToken?: boolean;
  maxSessionMb: number;
  maxTotalMb: number;
  /** Extra LAN-side addresses to listen on (tests use 127.0.0.2 to stand in for a LAN address). */
  lanHost?: string[];
}

const BUILD_INPUTS = ['src', 'index.html', 'runner.html', 'vite.config.ts', 'public', 'package.json'];

async function newestMtime(path: string): Promise<number> {
  const s = await stat(path).catch(() => null);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const e of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, e)));
  return newest;
}

/** dist/ is missing, or a source of the page is newer than its index.html. */
export async function buildIsStale(root: string): Promise<boolean> {
  const built = await stat(join(root, 'dist', 'index.html')).catch(() => null);
  if (!built || !existsSync(join(root, 'dist', 'models', 'index.json'))) return true;
  for (const p of BUILD_INPUTS) if ((await newestMtime(join(root, p))) > built.mtimeMs) return true;
  return false;
}

// NODE_ENV is set explicitly: an inherited `test` (vitest) or `development` makes Vite compile JSX for
// React's development runtime, which the production React in the bundle does not have.
async function buildPage(root: string): Promise<void> {
  process.stdout.write('exray serve: building the page (vite build)…\n');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`vite build exited with code ${code}`))));
  });
}

export async function serveCommand(opts: ServeCommandOptions): Promise<void> {
  const root = process.cwd();
  if (opts.build && (await buildIsStale(root))) await buildPage(root);
  const staticDir = join(root, 'dist');
  if (!existsSync(join(staticDir, 'index.html'))) throw new ExrayInputError(staticDir, 'the page is not built: run without --no-build (or `npx vite build`)');
  const lan = opts.lan && !opts.local ? lanAddresses() : [];
  const lanHosts = [...lan, ...(opts.lanHost ?? [])];
  let tls: { cert: string; key: string } | null = null;
  let tlsNote = '';
  if (opts.cert || opts.key) {
    if (!opts.cert || !opts.key) throw new ExrayInputError(opts.cert ?? opts.key ?? '--cert', '--cert and --key go together');
    tls = { cert: await readFile(opts.cert, 'utf8'), key: await readFile(opts.key, 'utf8') };
    tlsNote = `TLS: ${opts.cert}`;
  } else if (opts.https) {
    const c = await selfSignedCertificate(resolve(opts.data), lanHosts);
    tls = c;
    tlsNote = `TLS: self-signed certificate ${c.created ? 'made' : 'reused'} (${c.file})`;
  }
  const models = opts.reference === 'none' ? null : await indexModels([join(root, 'models')]);
  const server = await startServer({
    dataDir: resolve(opts.data),
    staticDir,
    port: opts.port,
    lanHosts,
    tls,
    locate: models?.locate ?? null,
    samples: models,
    ...(opts.reference !== 'none' ? { referenceBackend: opts.reference } : {}),
    limits: { sessionBytes: opts.maxSessionMb * 1024 * 1024, totalBytes: opts.maxTotalMb * 1024 * 1024 },
    hub: { resumeGraceMs: opts.resumeGrace * 1000 },
    newAgentToken: opts.newAgentToken ?? false,
  });
  const out = (s: string): void => void process.stdout.write(`${s}\n`);
  out(`exray serve: ${server.store.list().length} stored sessions in ${resolve(opts.data)}; reference ${opts.reference}${models ? ` (${models.byHash.size} bundled models)` : ''}; ${server.models.list().length} uploaded models`);
  out(`  desktop: ${server.desktopUrl}`);
  if (tlsNote) out(`  ${tlsNote}`);
  if (server.lanUrls.length) {
    const url = server.pairingUrl();
    out(`  phone:   ${url.replace(/#pair=.*/, '#pair=…')} (scan the QR code; the code is single-use, the desktop page shows the next one)`);
    out(await QRCode.toString(url, { type: 'terminal', small: true }));
    out(tls
      ? '  https on the LAN is a secure context: WebGPU, camera and wasm threads where the phone has them. iOS Safari refuses WebSockets to a self-signed certificate: install mkcert\'s root (--cert/--key) or use Android with --adb.'
      : '  Plain http on a LAN address is not a secure context: the phone gets WebGL, wasm (1 thread) and cpu, no WebGPU and no camera.');
    out('  For WebGPU and the camera: --https (Android; iOS needs a trusted root via --cert/--key), or --adb (Android on USB: http://localhost is secure).');
  } else out('  phones: not listening on the LAN (use --lan, or --adb for an Android phone on USB)');
  if (opts.adb) out(`  ${await adbReverse(server.port)}`);
  // The agent token is a secret like the pairing code: the whole line is printed for the user to paste.
  out(`  your own app: add ${agentLine(server.agentScriptUrls()[0]!)} (docs/agent.md)`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      out('exray serve: stopping');
      void server.close().then(done, done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
