/**
 * Shared by the wild-model suite (`npm run test:wild`): each exray command runs as a child process of
 * the real CLI (bin/exray.mjs from the sources) under the hostile harness, so every case has its own
 * wall time and peak RSS (of the whole process tree, a browser included). `recordRun` keeps them and
 * `printRuns` prints the table at the end of a file (docs/limits.md quotes it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Comparison } from '../../src/compare/index.ts';
import { describeRun, runExray, type HostileOptions, type HostileRun } from '../hostile/harness.ts';

export { ROOT } from '../hostile/harness.ts';

export const SHARED_IMAGES = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'images');

const tmpDirs: string[] = [];

/** A scratch folder for one file's models and traces (ISNet's stats traces are ~40 MB each); removed by printRuns. */
export function wildTmp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `exray-wild-${name}-`));
  tmpDirs.push(dir);
  return dir;
}

interface Row {
  what: string;
  seconds: number;
  peakRssMB: number;
}
const rows: Row[] = [];

/** Generous caps: these are real models, not hostile input; the caps only keep a stuck run bounded. */
const DEFAULTS: HostileOptions = { rssCapMB: 6000, maxOldSpaceMB: 4096, timeoutMs: 20 * 60_000, sampleMs: 50, env: { EXRAY_FROM_SOURCE: '1' } };

/** `exray …args` to completion: exit 0 expected (the run's stderr in the failure message), timed and measured. */
export async function exray(what: string, args: string[], opts: HostileOptions = {}): Promise<HostileRun> {
  const r = await runExray(args, { ...DEFAULTS, ...opts, env: { ...DEFAULTS.env, ...opts.env } });
  rows.push({ what, seconds: r.ms / 1000, peakRssMB: r.peakRssMB });
  expect(r.code, `${what}: ${describeRun(r)}`).toBe(0);
  return r;
}

/** `exray compare a b --json …extra`, parsed. */
export async function compare(what: string, edge: string, ref: string, extra: string[] = []): Promise<Comparison> {
  const r = await exray(what, ['compare', edge, ref, '--json', ...extra]);
  return JSON.parse(r.stdout) as Comparison;
}

/** The wall time and peak RSS of every command run so far in this file, one line each; then the scratch folders go. */
export function printRuns(title: string): void {
  const lines = rows.map((r) => `  ${r.what.padEnd(58)} ${r.seconds.toFixed(1).padStart(7)} s ${r.peakRssMB.toFixed(0).padStart(6)} MB`);
  process.stdout.write(`\n${title}: wall time, peak RSS\n${lines.join('\n')}\n`);
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A final output's values from a trace file (float32 as recorded). */
export async function outputValues(file: string, name: string): Promise<Float32Array> {
  const { readTrace } = await import('../../src/cli/io.ts');
  const t = await readTrace(file);
  const o = t.header.outputs.find((x) => x.name === name);
  const data = o?.blob ? t.blobs.get(o.blob.id) : undefined;
  if (!data) throw new Error(`${file}: no values for output ${name}`);
  return Float32Array.from(data as ArrayLike<number>);
}
