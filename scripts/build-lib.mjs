#!/usr/bin/env node
// npm run build:lib: the published library in lib/ (ESM + .d.ts) for the package entries
//   exray → src/index.ts, exray/trace → src/trace/index.ts, exray/agent → src/agent/index.ts,
//   exray/playwright → src/farm/playwright.ts (the @playwright/test fixture).
// tsc (tsconfig.lib.json) rewrites relative `.ts` imports to `.js` in the JavaScript it emits, but not in
// the declarations: they are rewritten here so that any consumer's TypeScript resolves them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'lib');
const ENTRIES = [
  { name: 'exray', src: 'src/index.ts', out: 'lib/index.js' },
  { name: 'exray/trace', src: 'src/trace/index.ts', out: 'lib/trace/index.js' },
  { name: 'exray/agent', src: 'src/agent/index.ts', out: 'lib/agent/index.js' },
  { name: 'exray/playwright', src: 'src/farm/playwright.ts', out: 'lib/farm/playwright.js' },
];

function fail(message) {
  process.stderr.write(`build:lib: ${message}\n`);
  process.exit(1);
}

const missing = ENTRIES.filter((e) => !existsSync(path.join(root, e.src)));
if (missing.length > 0) {
  fail(missing.map((e) => `${e.src} is missing: the package entry "${e.name}" cannot be built`).join('\n'));
}

const started = performance.now();
await rm(outDir, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.lib.json')], { cwd: root, stdio: 'inherit' });
if (run.status !== 0) fail(`tsc -p tsconfig.lib.json failed (exit ${run.status ?? run.signal})`);

async function* walk(dir) {
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) yield* walk(p);
    else yield p;
  }
}

// `from './x.ts'`, `import('./x.ts')`, `import './x.ts'` with a relative specifier → `.js`.
const TS_SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.(m|c)?ts\2/g;
let files = 0;
let rewritten = 0;
for await (const file of walk(outDir)) {
  files += 1;
  const text = await readFile(file, 'utf8');
  if (file.endsWith('.d.ts')) {
    const out = text.replace(TS_SPECIFIER, (_, lead, q, spec, m) => `${lead}${q}${spec}.${m ?? ''}js${q}`);
    if (out !== text) {
      rewritten += 1;
      await writeFile(file, out);
    }
  } else if (file.endsWith('.js') && TS_SPECIFIER.test(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''))) {
    fail(`${path.relative(root, file)} still imports a .ts file`);
  }
  TS_SPECIFIER.lastIndex = 0;
}

for (const e of ENTRIES) {
  for (const f of [e.out, e.out.replace(/\.js$/, '.d.ts')]) {
    if (!existsSync(path.join(root, f))) fail(`${f} was not emitted (entry "${e.name}")`);
  }
}
process.stdout.write(`build:lib: ${files} files in lib/ (${rewritten} declarations rewritten to .js imports) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
