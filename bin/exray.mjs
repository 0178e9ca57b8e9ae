#!/usr/bin/env node
// exray CLI entry. Runs the built CLI (dist-cli/, `npm run build:cli`, made by npm ci's `prepare` and
// shipped in the package) when it is there and, in a checkout, no source file it was built from is newer;
// otherwise the TypeScript sources through tsx (development: edit src/ and run, no build step). EXRAY_FROM_SOURCE=1
// forces the sources; EXRAY_DEBUG=1 says which runs and why. The check stats the ~170 source files listed
// in dist-cli/stamp.json: 0.2-5 ms, a few % of the start (`EXRAY_BENCH_ONLY=cli npm run bench`).
import { readFileSync, statSync } from 'node:fs';

/** Why the built CLI cannot be used, or null when it can. */
function bundleUnusable() {
  const force = process.env.EXRAY_FROM_SOURCE;
  if (force && force !== '0') return 'EXRAY_FROM_SOURCE is set';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('../dist-cli/stamp.json', import.meta.url), 'utf8'));
  } catch {
    return 'no dist-cli/stamp.json (npm run build:cli)';
  }
  if (typeof stamp?.builtAt !== 'number' || !Array.isArray(stamp.inputs)) return 'dist-cli/stamp.json is not a stamp';
  // An installed copy (node_modules/exray, real path): its sources are not edited, and npm dates every file
  // it extracts to the install time, after the build. The build it shipped with is used as it is.
  if (import.meta.url.includes('/node_modules/')) return null;
  for (const f of stamp.inputs) {
    const st = statSync(new URL(`../${f}`, import.meta.url), { throwIfNoEntry: false });
    if (!st) return `${f} is gone since the build (npm run build:cli)`;
    if (st.mtimeMs > stamp.builtAt) return `${f} changed since the build (npm run build:cli)`;
  }
  return null;
}

let main;
const unusable = bundleUnusable();
if (process.env.EXRAY_DEBUG) process.stderr.write(`exray: ${unusable ? `running the sources through tsx: ${unusable}` : 'running the built CLI (dist-cli/)'}\n`);
if (!unusable) {
  ({ main } = await import('../dist-cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
