/**
 * `exray farm`: models × inputs × backends × devices through Playwright (src/farm). The config is
 * `exray.farm.json` (or `--config`); flags override its fields, or make the whole config without a
 * file. Both go through the one zod schema, so every error names the file (or `command line`) and the
 * JSON path. Exit code 1 when a cell fails or breaks its tolerance, 2 on a bad config.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ExrayInputError } from '../../errors.ts';
import { parseFarmConfig } from '../../farm/config.ts';
import { FarmProgress } from '../../farm/progress.ts';

export interface FarmCommandOptions {
  config?: string;
  model?: string[];
  inputs?: string[];
  backends?: string[];
  f16?: boolean;
  emulate?: string[];
  connect?: string[];
  cdp?: string[];
  android?: string[];
  capture?: string;
  runs?: number;
  warmup?: number;
  nrmse?: number;
  top1?: number;
  reference?: string;
  jobs?: number;
  timeout?: number;
  retries?: number;
  diagnose: boolean;
  build: boolean;
  out?: string;
  json?: boolean;
}

const DEFAULT_CONFIG = 'exray.farm.json';

/** The raw config: the file's JSON (if any) with the flags laid over it. Validation comes after. */
export async function rawConfig(opts: FarmCommandOptions): Promise<{ raw: Record<string, unknown>; file: string }> {
  const file = opts.config ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null);
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ExrayInputError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ExrayInputError(file, `not JSON: ${(e as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ExrayInputError(file, '(root): expected an object');
    raw = json as Record<string, unknown>;
  }
  if (opts.model) raw.models = opts.model;
  if (opts.inputs) raw.inputs = opts.inputs;
  if (opts.backends || opts.f16) {
    const b = [...((opts.backends ?? (raw.backends as string[] | undefined) ?? ['wasm']) as string[])];
    if (opts.f16 && !b.includes('webgl-f16')) b.push('webgl-f16');
    raw.backends = b;
  }
  const devices = [
    ...(opts.emulate ?? []).map((emulate) => ({ emulate })),
    ...(opts.connect ?? []).map((connect) => ({ connect })),
    ...(opts.cdp ?? []).map((cdp) => ({ cdp })),
    ...(opts.android ?? []).map((android) => ({ android })),
  ];
  if (devices.length) raw.devices = devices;
  const options = { ...((raw.options as Record<string, unknown> | undefined) ?? {}) };
  if (opts.capture !== undefined) options.capture = opts.capture;
  if (opts.runs !== undefined) options.runs = opts.runs;
  if (opts.warmup !== undefined) options.warmup = opts.warmup;
  if (Object.keys(options).length) raw.options = options;
  const tolerance = { ...((raw.tolerance as Record<string, unknown> | undefined) ?? {}) };
  if (opts.nrmse !== undefined) tolerance.nrmse = opts.nrmse;
  if (opts.top1 !== undefined) tolerance.top1 = opts.top1;
  if (Object.keys(tolerance).length) raw.tolerance = tolerance;
  if (opts.reference !== undefined) raw.reference = opts.reference;
  if (opts.jobs !== undefined) raw.jobs = opts.jobs;
  if (opts.timeout !== undefined) raw.timeout = opts.timeout;
  if (opts.retries !== undefined) raw.retries = opts.retries;
  if (!opts.diagnose) raw.diagnose = false;
  if (opts.out !== undefined) raw.out = opts.out;
  return { raw, file: file ?? 'command line' };
}

export async function farmCommand(opts: FarmCommandOptions): Promise<void> {
  const { raw, file } = await rawConfig(opts);
  const cfg = parseFarmConfig(raw, file);
  const { runFarm } = await import('../../farm/run.ts');
  const progress = new FarmProgress((s) => void process.stderr.write(s), Boolean(process.stderr.isTTY));
  const { summary, outDir, exitCode } = await runFarm(cfg, {
    configFile: file,
    build: opts.build,
    log: (l) => progress.line(l),
    onPlan: (n) => progress.plan(n),
    onCellStart: (id) => progress.start(id),
    onCellEnd: (id, ok) => progress.end(id, ok),
  });
  progress.finish();
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const t = summary.totals;
    const lines = [`exray farm: ${t.cells} cells: ${t.passed} passed, ${t.failed} failed, ${t.errors} errors, ${t.skipped} skipped (${summary.seconds.toFixed(0)} s)`];
    for (const c of summary.cells) if (c.status !== 'passed') lines.push(`  ${c.status.padEnd(7)} ${c.id}: ${c.reason ?? ''}${c.diagnosis ? ` [cause ${c.diagnosis.cause}${c.diagnosis.firstDivergentNode ? ` at ${c.diagnosis.firstDivergentNode}` : ''}]` : ''}`);
    for (const [cause, ids] of Object.entries(summary.causes)) lines.push(`  cause ${cause}: ${ids.length} cell(s)`);
    lines.push(`wrote ${outDir}/summary.json, junit.xml, index.html and the traces`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = exitCode;
  // playwright-core 1.65 leaves the socket of a refused `chromium.connect` (e.g. a run-server that
  // cannot launch its browser) open, which would keep the CLI alive after the report is written.
  // This timer is unref'd: it fires only when such a leak is all that is left. Not under vitest,
  // whose workers call main() in-process.
  if (!process.env.VITEST) setTimeout(() => process.exit(), 3000).unref();
}
