/**
 * CLI start: wall time of `node bin/exray.mjs --help` and `--version` (a new process each), the built CLI
 * (built into a private package root first, see packageRoot) vs the TypeScript sources through tsx (EXRAY_FROM_SOURCE=1), interleaved in
 * one run, median of `runs`; `node -e ''` alone as the floor. Also the cost of bin/'s freshness check.
 * Every run is checked to have run what it measures (bin/ says which under EXRAY_DEBUG).
 * And `exray inspect` of a MobileNetV2 layers trace with every node's values (88 MB of float32; issue 16
 * item 4: ≤ 0.3 s, ≤ 100 MB): wall time and peak RSS of the whole process, built CLI, median of `runs`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExray } from '../test/hostile/harness.ts';
import type { BenchResult } from './types.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * A private package root (bin/ and package.json copied, src/ and node_modules/ linked) with the CLI built
 * into its dist-cli/, whose stamp is then dated in the future: bin/ still stats every source file (the cost
 * is measured), but a source edited meanwhile (other work in the tree) does not switch a run to the sources.
 */
function packageRoot(): { dir: string; buildMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'exray-bench-cli-'));
  mkdirSync(join(dir, 'bin'));
  cpSync(join(ROOT, 'bin', 'exray.mjs'), join(dir, 'bin', 'exray.mjs'));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'src'), join(dir, 'src'), 'dir');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs'), '--out', join(dir, 'dist-cli')], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build:cli failed: ${build.stderr}`);
  const stampFile = join(dir, 'dist-cli', 'stamp.json');
  writeFileSync(stampFile, JSON.stringify({ ...(JSON.parse(readFileSync(stampFile, 'utf8')) as object), builtAt: Date.now() + 365 * 86_400_000 }));
  return { dir, buildMs: Number(/in ([\d.]+) s\n?$/.exec(build.stdout)?.[1] ?? NaN) * 1000 };
}

/** The check bin/exray.mjs makes: no source file of the bundle is newer than its stamp. */
function bundleFresh(dir: string): boolean {
  const stamp = JSON.parse(readFileSync(join(dir, 'dist-cli', 'stamp.json'), 'utf8')) as { builtAt: number; inputs: string[] };
  return stamp.inputs.every((f) => (statSync(join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= stamp.builtAt);
}

/** Wall time of one run; `expect`: what bin/ must say it ran (EXRAY_DEBUG). */
function wall(args: string[], env: NodeJS.ProcessEnv, expect?: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  if (expect && !r.stderr.includes(`exray: running ${expect}`)) throw new Error(`node ${args.join(' ')} did not run ${expect}: ${r.stderr}`);
  return ms;
}

export async function benchCli(runs = 7): Promise<BenchResult[]> {
  const { dir, buildMs } = packageRoot();
  try {
    return [...measure(dir, buildMs, runs), ...(await inspectFigures(dir, runs))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(dir: string, buildMs: number, runs: number): BenchResult[] {
  const bin = join(dir, 'bin', 'exray.mjs');
  const { EXRAY_FROM_SOURCE: _, NODE_OPTIONS: __, ...clean } = process.env;
  const bundleEnv = { ...clean, EXRAY_DEBUG: '1' };
  const sourceEnv = { ...clean, EXRAY_DEBUG: '1', EXRAY_FROM_SOURCE: '1' };
  const variants = [
    { key: 'bundle --help', args: [bin, '--help'], env: bundleEnv, expect: 'the built CLI' },
    { key: 'sources --help', args: [bin, '--help'], env: sourceEnv, expect: 'the sources' },
    { key: 'bundle --version', args: [bin, '--version'], env: bundleEnv, expect: 'the built CLI' },
    { key: 'sources --version', args: [bin, '--version'], env: sourceEnv, expect: 'the sources' },
    { key: 'node alone', args: ['-e', ''], env: clean, expect: undefined },
  ];
  const t = new Map<string, number[]>(variants.map((v) => [v.key, []]));
  // One warm-up of each (disk cache, tsx's compile cache), then interleaved rounds.
  for (const v of variants) wall(v.args, v.env, v.expect);
  for (let r = 0; r < runs; r++) for (const v of variants) t.get(v.key)!.push(wall(v.args, v.env, v.expect));
  // bin/'s freshness check in this process (stats every source file listed in the stamp).
  const checks: number[] = [];
  for (let r = 0; r < 21; r++) {
    const t0 = performance.now();
    bundleFresh(dir);
    checks.push(performance.now() - t0);
  }
  const med = (x: number[]): number => [...x].sort((p, q) => p - q)[x.length >> 1]!;
  const m = (k: string): number => med(t.get(k)!);
  return [
    { name: 'cli start, exray --help, built CLI (dist-cli)', value: m('bundle --help'), unit: 'ms' },
    { name: 'cli start, exray --help, sources through tsx', value: m('sources --help'), unit: 'ms' },
    { name: 'cli start, exray --version, built CLI (dist-cli)', value: m('bundle --version'), unit: 'ms' },
    { name: 'cli start, exray --version, sources through tsx', value: m('sources --version'), unit: 'ms' },
    { name: 'cli start, node -e "" (the floor)', value: m('node alone'), unit: 'ms' },
    { name: 'cli start, --help sources / built', value: m('sources --help') / m('bundle --help'), unit: 'ratio' },
    { name: 'cli start, --help built minus node alone', value: m('bundle --help') - m('node alone'), unit: 'ms' },
    { name: "cli start, bin freshness check (stat of the bundle's sources)", value: med(checks), unit: 'ms' },
    { name: 'cli build (npm run build:cli)', value: buildMs, unit: 'ms' },
  ];
}

/** `exray inspect` (built CLI) of a full-capture MobileNetV2 layers trace, written first by `exray trace`. */
async function inspectFigures(dir: string, runs: number): Promise<BenchResult[]> {
  const bin = join(dir, 'bin', 'exray.mjs');
  const file = join(dir, 'mobilenet-v2-tensors.exray');
  const env = { EXRAY_FROM_SOURCE: undefined };
  const made = await runExray(['trace', join(ROOT, 'models', 'nsfw-mobilenet-v2'), '--image', join(ROOT, 'public', 'samples', 'chelsea.png'), '--backend', 'wasm', '--capture', 'tensors', '--runs', '1', '--out', file], { bin, env, timeoutMs: 300_000, maxOldSpaceMB: 4096, rssCapMB: 8192 });
  if (made.code !== 0) throw new Error(`exray trace for the inspect figure failed: ${made.stderr}`);
  const ms: number[] = [];
  const mb: number[] = [];
  for (let r = 0; r < Math.max(3, runs); r++) {
    const run = await runExray(['inspect', file], { bin, env, timeoutMs: 60_000 });
    if (run.code !== 0 || !/nodes/i.test(run.stdout)) throw new Error(`exray inspect failed: ${run.stderr}`);
    ms.push(run.ms);
    mb.push(run.peakRssMB);
  }
  const med = (x: number[]): number => [...x].sort((p, q) => p - q)[x.length >> 1]!;
  return [
    { name: 'exray inspect of a MobileNetV2 layers trace with every node value (88 MB float32), file size', value: statSync(file).size / 1e6, unit: 'MB' },
    { name: 'exray inspect of that trace (built CLI, whole process): wall time', value: med(ms), unit: 'ms' },
    { name: 'exray inspect of that trace (built CLI, whole process): peak RSS', value: med(mb), unit: 'MB' },
  ];
}
