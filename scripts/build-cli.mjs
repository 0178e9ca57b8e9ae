#!/usr/bin/env node
// npm run build:cli (run by npm ci's `prepare` and by `prepack`): the exray CLI as plain JavaScript in
// dist-cli/, so that `exray` starts without compiling TypeScript (tsx) at every start.
//
// - dist-cli/, not dist/: `vite build` empties dist/ on every page build (and `exray serve` / `exray farm`
//   rebuild the page when it is stale), which would delete the CLI under its own feet.
// - Only exray's own code is bundled (packages: 'external'): TF.js, onnxruntime-*, sharp, playwright-core,
//   vite, ws, commander… are imported from node_modules as they are from the sources.
// - Code splitting: main.js holds the command table; each command is a chunk imported when it runs, so
//   `exray --help` / `--version` load commander and nothing heavy.
// - `import.meta.url` of a bundled module is rewritten to its source file's URL (relative to the bundle,
//   so the bundle moves with the package): paths computed from it (the package root, package.json) are
//   the same as from the sources. The worker threads' entries (`new URL('./x-boot.mjs', import.meta.url)`)
//   are the exception: they are bundled too and their boot files written next to the chunks.
// - dist-cli/stamp.json lists the source files the bundle was made of and when; bin/exray.mjs runs the
//   bundle only when none is newer (else the sources through tsx), or the sources when EXRAY_FROM_SOURCE=1.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outName = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : 'dist-cli';
const outDir = path.resolve(root, outName);
const started = performance.now();
// Before reading any source: a file saved while the build runs counts as newer than the bundle.
const builtAt = Date.now();

function fail(message) {
  process.stderr.write(`build:cli: ${message}\n`);
  process.exit(1);
}

// Worker threads: src/{server,reference}/<name>-boot.mjs registers tsx and imports './<name>.ts'. In the
// bundle, <name>.ts is an entry point and dist-cli/<name>-boot.mjs imports it without tsx.
const workers = [];
for (const dir of ['server', 'reference']) {
  for (const f of (await readdir(path.join(root, 'src', dir))).filter((n) => n.endsWith('-boot.mjs')).sort()) {
    const m = /await import\((['"])\.\/([\w-]+)\.ts\1\)/.exec(await readFile(path.join(root, 'src', dir, f), 'utf8'));
    if (!m) fail(`src/${dir}/${f} does not import './<worker>.ts'`);
    if (workers.some((w) => w.boot === f)) fail(`two workers named ${f}: the bundle is flat`);
    workers.push({ boot: f, name: m[2], src: `src/${dir}/${m[2]}.ts`, dir });
  }
}

/**
 * `import.meta.url` / `.filename` / `.dirname` of a bundled source module → its source file's, through
 * esbuild's define (code only: a string that mentions import.meta.url, e.g. a generated script, is left
 * alone). The worker boot URLs keep the chunk's own URL.
 */
const BOOT_URL = /new URL\((['"])\.\/([\w-]+-boot\.mjs)\1,\s*import\.meta\.url\)/g;
const sourceUrls = {
  name: 'exray-source-import-meta',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.[cm]?tsx?$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!/import\.meta\.(url|filename|dirname)/.test(text)) return undefined;
      const rel = path.relative(outDir, args.path).split(path.sep).join('/');
      const { code } = await transform(text.replace(BOOT_URL, (_, q, boot) => `new URL(${q}./${boot}${q}, __exrayBundleUrl)`), {
        loader: args.path.endsWith('x') ? 'tsx' : 'ts',
        format: 'esm',
        sourcefile: args.path,
        define: { 'import.meta.url': '__exraySourceUrl', 'import.meta.filename': '__exraySourceFilename', 'import.meta.dirname': '__exraySourceDirname' },
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, jsx: 'react-jsx' } },
      });
      const header = [
        `import { fileURLToPath as __exrayFileURLToPath } from 'node:url';`,
        `import { dirname as __exrayDirname } from 'node:path';`,
        `const __exrayBundleUrl = import.meta.url;`,
        `const __exraySourceUrl = new URL(${JSON.stringify(rel)}, import.meta.url).href;`,
        `const __exraySourceFilename = __exrayFileURLToPath(__exraySourceUrl);`,
        `const __exraySourceDirname = __exrayDirname(__exraySourceFilename);`,
      ].join(' ');
      return { contents: `${header}\n${code}`, loader: 'js' };
    });
  },
};

const tmp = `${outDir}.tmp-${process.pid}`;
await rm(tmp, { recursive: true, force: true });
let result;
try {
  result = await build({
    absWorkingDir: root,
    entryPoints: [{ in: 'src/cli/main.ts', out: 'main' }, ...workers.map((w) => ({ in: w.src, out: w.name }))],
    outdir: tmp,
    // Flat: every chunk's import.meta.url is in dist-cli/, where the rewritten paths and boot files are relative to.
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    tsconfig: path.join(root, 'tsconfig.json'),
    plugins: [sourceUrls],
  });
} catch (e) {
  await rm(tmp, { recursive: true, force: true });
  fail(e instanceof Error ? e.message : String(e));
}

for (const w of workers) {
  await writeFile(path.join(tmp, w.boot), `// Entry of a worker thread (bundled counterpart of src/${w.dir}/${w.boot}: no tsx needed).\nawait import('./${w.name}.js');\n`);
}
const inputs = Object.keys(result.metafile.inputs)
  .filter((f) => !f.startsWith('node_modules/') && !f.includes(':'))
  .map((f) => f.split(path.sep).join('/'))
  .sort();
const version = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).version;
await writeFile(path.join(tmp, 'stamp.json'), `${JSON.stringify({ version, builtAt, inputs }, null, 1)}\n`);
await writeFile(path.join(tmp, 'package.json'), '{ "type": "module" }\n');
// The bundle alone, without bin/exray.mjs's freshness check (tests and the bench run it directly).
await writeFile(path.join(tmp, 'cli.mjs'), "import { main } from './main.js';\n\nprocess.exitCode = await main(process.argv);\n");

// Swap in the new build (a process starting meanwhile finds no stamp and runs the sources).
await mkdir(path.dirname(outDir), { recursive: true });
const old = `${outDir}.old-${process.pid}`;
if (existsSync(outDir)) await rename(outDir, old);
await rename(tmp, outDir);
await rm(old, { recursive: true, force: true });

const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
process.stdout.write(
  `build:cli: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1e6).toFixed(2)} MB from ${inputs.length} sources in ${path.relative(root, outDir) || '.'}/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
);
