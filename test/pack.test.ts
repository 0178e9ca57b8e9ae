/**
 * exray as an npm package, seen from a consumer's project (not the repo's): build the library, `npm
 * pack` it, install the tarball into a temporary project, and there import every entry in Node, trace
 * a tiny TF.js model through the installed package, run the installed CLI on the trace, bundle an app
 * that imports `exray/agent` with Vite, and type-check a consumer file against the published `.d.ts`.
 *
 * Offline: the install is `npm ci --offline` from the local npm cache (filled by the repo's `npm ci`),
 * with a consumer lockfile made from the repo's (its production packages, the same versions the repo is
 * tested with): without a lockfile npm needs registry metadata that `npm ci` does not cache.
 * `--ignore-scripts`: exray's postinstall (sample-model extraction, 60 MB into node_modules/exray/models)
 * and the dependencies' native install steps are not needed by anything checked here.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const exec = promisify(execFile);

/** The child's environment: no npm_* variables inherited from an `npm test` parent, no install downloads. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

async function sh(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<string> {
  try {
    const r = await exec(cmd, args, { cwd, env: childEnv(), timeout, maxBuffer: 64 * 1024 * 1024 });
    return r.stdout;
  } catch (e) {
    const err = e as { message?: string; stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message ?? ''}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}
const node = (args: string[], cwd: string, timeout?: number): Promise<string> => sh(process.execPath, args, cwd, timeout);
const npm = (args: string[], cwd: string, timeout?: number): Promise<string> => sh(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, cwd, timeout);

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

const LIB_EXISTED = existsSync(join(ROOT, 'lib'));
const tmp = mkdtempSync(join(tmpdir(), 'exray-pack-'));
const app = join(tmp, 'consumer');
let pack: PackResult;
const timings: Record<string, number> = {};
let bundleBytes = 0;

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[what] = Math.round(performance.now() - t0);
  }
}

/** The consumer's lockfile: exray from the tarball + the production part of the repo's lockfile. */
function consumerLock(tarball: string): object {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(join(app, tarball))).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { exray: `file:${tarball}` } },
    'node_modules/exray': {
      version: pkg.version,
      resolved: `file:${tarball}`,
      integrity,
      license: pkg.license,
      hasInstallScript: true,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [k, p] of Object.entries(repoLock.packages)) if (k !== '' && !p.dev) packages[k] = p;
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

const CONSUMER_FILES: Record<string, string> = {
  // Every entry imports in plain Node (no DOM globals touched at import time) and has its functions.
  'entries.mjs': `
const want = {
  exray: ['traceModel', 'streamModel', 'traceOnnx', 'compareTraces', 'readTrace', 'encodeTrace', 'decodeTrace', 'diagnose'],
  'exray/trace': ['encodeTrace', 'decodeTrace', 'validateTrace', 'TraceBuilder', 'computeStats'],
  'exray/agent': ['attach'],
};
const out = {};
for (const [spec, names] of Object.entries(want)) {
  const m = await import(spec);
  out[spec] = Object.fromEntries(names.map((n) => [n, typeof m[n]]));
}
// The fixture needs @playwright/test (an optional peer, not installed here): resolved, not imported.
out.resolved = { 'exray/playwright': import.meta.resolve('exray/playwright').split('/node_modules/exray/').pop() };
console.log(JSON.stringify(out));
`,
  // A real trace through the installed package: a tiny layers model on the consumer's TF.js cpu backend.
  'roundtrip.mjs': `
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { traceModel, encodeTrace, readTrace, compareTraces, diagnose } from 'exray';
import { validateTrace, TRACE_FORMAT } from 'exray/trace';

await tf.setBackend('cpu');
const model = tfl.sequential({ layers: [
  tfl.layers.dense({ inputShape: [4], units: 3, activation: 'relu', kernelInitializer: 'ones', name: 'd1' }),
  tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: 'ones', name: 'd2' }),
] });
const x = tf.tensor2d([[0.1, 0.2, 0.3, 0.4]]);
const edge = await traceModel(model, x, { capture: 'tensors', runs: 1, warmup: 0, modelName: 'tiny' });
const bytes = encodeTrace(edge);
writeFileSync('tiny.exray', bytes);
const back = readTrace(bytes);
validateTrace(back, 'tiny.exray');
const comparison = compareTraces(back, edge);
const diagnosis = diagnose({ edge: back, ref: edge, comparison });
let badFile = null;
try { readTrace(new Uint8Array([1, 2, 3]), 'bad.exray'); } catch (e) { badFile = e.name; }
console.log(JSON.stringify({
  format: back.header.format === TRACE_FORMAT,
  runtime: back.header.runtime.name,
  nodes: back.header.nodes.map((n) => n.name),
  blobs: back.blobs.size === edge.blobs.size && back.blobs.size > 0,
  verdict: comparison.verdict,
  cause: diagnosis.causes[0]?.code,
  badFile,
}));
`,
  // An app that attaches the agent: the app's own TF.js is passed in, so none may be bundled.
  'app.js': `
import { attach } from 'exray/agent';
export function start(tf) {
  return attach({ tf });
}
`,
  'bundle.mjs': `
const { build } = await import(process.argv[2]);
await build({
  root: process.cwd(),
  configFile: false,
  logLevel: 'warn',
  build: { outDir: 'bundle', emptyOutDir: true, minify: false, lib: { entry: 'app.js', formats: ['es'], fileName: 'app' } },
});
`,
  // The published declarations, as a TypeScript consumer with NodeNext resolution sees them.
  'types.ts': `
import { traceModel, compareTraces, readTrace, encodeTrace, diagnose, type Trace, type Comparison, type Diagnosis } from 'exray';
import { TraceBuilder, type TraceEvent } from 'exray/trace';
import { attach, type Agent, type AttachOptions } from 'exray/agent';

export async function use(model: Parameters<typeof traceModel>[0], input: Parameters<typeof traceModel>[1]): Promise<[Comparison, Diagnosis]> {
  const edge: Trace = await traceModel(model, input, { capture: 'tensors' });
  const ref: Trace = readTrace(encodeTrace(edge));
  const comparison = compareTraces(edge, ref);
  return [comparison, diagnose({ edge, ref, comparison })];
}
export const builder: TraceBuilder = new TraceBuilder();
export const events: TraceEvent[] = [];
export const options: AttachOptions = {};
export const agent: Promise<Agent> = attach(options);
// @ts-expect-error: readTrace takes bytes (the types are real, not any)
readTrace('not bytes');
// @ts-expect-error: attach's options are typed
attach({ nonsense: true });
`,
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      lib: ['ES2023', 'DOM'],
      types: [],
    },
    files: ['types.ts'],
  }),
};

/** JavaScript or declarations without their comments (which may quote `import './x.ts'`). */
const code = (file: string): string => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');

/**
 * A module graph by its relative imports (static, literal dynamic `import('./x')`, and
 * `new URL('./x', import.meta.url)` worker files): the bare specifiers it imports and the files it
 * names that are not there.
 */
function moduleGraph(entry: string): { bare: Set<string>; missing: string[] } {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const missing: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!existsSync(file)) {
      missing.push(file);
      return;
    }
    const text = code(file);
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else bare.add(spec);
    }
  };
  visit(entry);
  return { bare, missing };
}
const bareImports = (entry: string): Set<string> => moduleGraph(entry).bare;

describe('exray as an installed npm package', () => {
  beforeAll(async () => {
    await timed('build:lib', () => node([join(ROOT, 'scripts', 'build-lib.mjs')], ROOT, 120_000));
    await timed('build:cli', () => node([join(ROOT, 'scripts', 'build-cli.mjs')], ROOT, 120_000));
    // The library and the CLI were just built: no prepack / prepare build again.
    const out = await timed('npm pack', () => npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], ROOT));
    pack = (JSON.parse(out) as PackResult[])[0]!;

    mkdirSync(app);
    const tarball = `../${pack.filename}`;
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { exray: `file:${tarball}` } }, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(consumerLock(tarball), null, 2));
    for (const [name, text] of Object.entries(CONSUMER_FILES)) writeFileSync(join(app, name), text);
    await timed('npm ci', () => npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], app, 150_000));
  }, 240_000);

  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
    // The lib/ build is generated code: do not leave one behind in the repo if there was none.
    if (!LIB_EXISTED) rmSync(join(ROOT, 'lib'), { recursive: true, force: true });
    console.log(`pack test: ${pack ? `${pack.filename} ${(pack.size / 1024).toFixed(0)} kB, ${pack.entryCount} files; ` : ''}${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}; agent bundle ${(bundleBytes / 1024).toFixed(0)} kB`);
  }, 60_000);

  it('the tarball holds the library, the CLI and its sources, and no sample weights, page build or tests', () => {
    const files = pack.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'bin/exray.mjs', 'src/cli/main.ts', 'dist-cli/main.js', 'dist-cli/cli.mjs', 'dist-cli/stamp.json']) expect(files).toContain(f);
    for (const entry of ['lib/index', 'lib/trace/index', 'lib/agent/index', 'lib/farm/playwright']) {
      expect(files).toContain(`${entry}.js`);
      expect(files).toContain(`${entry}.d.ts`);
    }
    const unwanted = files.filter((f) => /^(models|public|dist|test|e2e|examples|bench|scripts|exray-data|out|node_modules)\//.test(f) || /\.(bin|onnx|png|jpe?g|webp|npy|exray)$/.test(f) || /\.test\.ts$/.test(f));
    expect(unwanted).toEqual([]);
    expect(pack.size).toBeLessThan(2 * 1024 * 1024);
  });

  it('installs the published entries: exports map, no .ts imports left, exray/trace free of runtimes', () => {
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules', 'exray', 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './agent', './package.json', './playwright', './trace']);
    const lib = join(app, 'node_modules', 'exray', 'lib');
    const emitted = (readdirSync(lib, { recursive: true }) as string[]).filter((f) => /\.(js|d\.ts)$/.test(f));
    const tsImports = emitted.filter((f) => /(?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]*\.ts['"]/.test(code(join(lib, f))));
    expect(tsImports).toEqual([]);
    // The trace format alone: pure code (schema, zip), no TF.js, onnxruntime, DOM or Node dependency.
    for (const spec of bareImports(join(lib, 'trace', 'index.js'))) expect(spec).toMatch(/^(zod|fflate|@noble\/hashes\/)/);
    for (const spec of bareImports(join(lib, 'agent', 'index.js'))) expect(spec).not.toMatch(/^(@tensorflow|onnxruntime)/);
  });

  it('imports exray, exray/trace and exray/agent in Node, and resolves exray/playwright', async () => {
    const { resolved, ...out } = JSON.parse(await timed('node imports', () => node(['entries.mjs'], app))) as Record<string, Record<string, string>>;
    expect(resolved).toEqual({ 'exray/playwright': 'lib/farm/playwright.js' });
    for (const [spec, names] of Object.entries(out)) {
      for (const [name, type] of Object.entries(names)) expect(`${spec} ${name}: ${type}`).toBe(`${spec} ${name}: function`);
    }
  });

  it('ships every file the CLI can load (its commands are imported on demand)', () => {
    const pkgDir = join(app, 'node_modules', 'exray');
    const { missing } = moduleGraph(join(pkgDir, 'src', 'cli', 'main.ts'));
    expect(missing.map((f) => f.slice(pkgDir.length + 1))).toEqual([]);
    // The built CLI: its chunks and the worker threads' entries.
    const built = ['main.js', 'trace-worker-boot.mjs', 'reference-worker-boot.mjs', 'stats-worker-boot.mjs'].flatMap((f) => moduleGraph(join(pkgDir, 'dist-cli', f)).missing);
    expect(built.map((f) => f.slice(pkgDir.length + 1))).toEqual([]);
  });

  it('traces a TF.js model, writes and reads the .exray, compares and diagnoses it, and the installed CLI reads it', async () => {
    const out = await timed('round trip', () => node(['roundtrip.mjs'], app));
    const line = out.trim().split('\n').find((l) => l.startsWith('{'));
    expect(JSON.parse(line ?? 'null')).toEqual({
      format: true,
      runtime: 'tfjs',
      nodes: ['d1', 'd2'],
      blobs: true,
      verdict: 'ok',
      cause: 'none',
      badFile: 'TraceFormatError',
    });
    // The CLI runs from the tarball too: the built one (dist-cli/), and the sources through tsx (a dependency).
    const bin = join(app, 'node_modules', 'exray', 'bin', 'exray.mjs');
    const inspected = JSON.parse(await timed('exray inspect', () => node([bin, 'inspect', 'tiny.exray', '--json'], app))) as { format: string; model: { name: string } };
    expect([inspected.format, inspected.model.name]).toEqual(['exray-trace', 'tiny']);
    const ran = await exec(process.execPath, [bin, '--version'], { cwd: app, env: { ...childEnv(), EXRAY_DEBUG: '1' } });
    expect([ran.stdout, ran.stderr]).toEqual([`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`, 'exray: running the built CLI (dist-cli/)\n']);
    const fromSources = JSON.parse(await exec(process.execPath, [bin, 'inspect', 'tiny.exray', '--json'], { cwd: app, env: { ...childEnv(), EXRAY_FROM_SOURCE: '1' } }).then((r) => r.stdout)) as unknown;
    expect(fromSources).toEqual(inspected);
  });

  it("bundles an app importing exray/agent with Vite, without any TF.js or onnxruntime code (the app's own is used)", async () => {
    const vite = pathToFileURL(join(ROOT, 'node_modules', 'vite', 'dist', 'node', 'index.js')).href;
    await timed('vite build', () => node(['bundle.mjs', vite], app));
    const bundle = readFileSync(join(app, 'bundle', 'app.js'), 'utf8');
    // Unminified output names every module it inlined by path.
    const modules = [...bundle.matchAll(/^\/\/ (node_modules\/\S+)/gm)].map((m) => m[1]!);
    expect(modules.some((m) => m.startsWith('node_modules/exray/lib/agent/'))).toBe(true);
    expect(modules.filter((m) => /node_modules\/(@tensorflow|onnxruntime|long\/|seedrandom)/.test(m))).toEqual([]);
    expect(bundle).not.toMatch(/registerBackend|version_core\s*=|tfjs-core\/dist|ort-wasm/);
    bundleBytes = statSync(join(app, 'bundle', 'app.js')).size;
  });

  it('type-checks a consumer against the published declarations (NodeNext)', async () => {
    let out = '';
    try {
      out = await timed('tsc', () => node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app));
    } catch (e) {
      out = String(e);
    }
    // TF.js's own declarations have errors of their own under skipLibCheck: false; exray's must have none.
    const errors = out.split('\n').filter((l) => /error TS\d+/.test(l) && !/node_modules\/@tensorflow\//.test(l));
    expect(errors).toEqual([]);
  });
});
