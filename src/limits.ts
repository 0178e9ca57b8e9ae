/**
 * Every resource limit of exray in one place (docs/limits.md lists them): each has a default and an
 * environment variable that overrides it (`EXRAY_MAX_PIXELS=400000000 exray trace …`). Each is checked
 * before the memory it guards is allocated, and a breach is an ExrayInputError naming the file, the
 * limit and the variable that raises it. Pure: the environment is passed in (Node callers use
 * `limits()`, which reads process.env).
 */
import { ExrayInputError } from './errors.ts';
import { formatBytes } from './trace/errors.ts';

export interface Limits {
  /** Bytes read from any one input file (trace, image, tensor file, model file, shard). */
  fileBytes: number;
  /** Decoded pixels of an input image (width × height from its header, before decoding). */
  imagePixels: number;
  /** Pixels (width × height) of a card's pre-processing output. */
  preprocessPixels: number;
  /** Elements of one input tensor (from a .npy, .json or a trace). */
  tensorElements: number;
  /** Inflated bytes of one blob of an .exray trace. */
  blobBytes: number;
  /** Inflated bytes of all entries of an .exray trace. */
  traceBytes: number;
  /** Bytes of an .exray trace's header.json. */
  headerBytes: number;
  /** Nodes of a model graph (TF.js or ONNX, subgraphs included) or of a trace. */
  nodes: number;
  /** `--runs` (timed runs). */
  runs: number;
  /** `--warmup` (warm-up runs). */
  warmup: number;
}

export const LIMIT_DEFAULTS: Readonly<Limits> = {
  fileBytes: 2 * 1024 ** 3,
  imagePixels: 100_000_000,
  preprocessPixels: 4096 * 4096,
  tensorElements: 64 * 1024 ** 2,
  blobBytes: 1024 ** 3,
  traceBytes: 4 * 1024 ** 3,
  headerBytes: 256 * 1024 ** 2,
  nodes: 200_000,
  runs: 1000,
  warmup: 100,
};

export const LIMIT_ENV: Readonly<Record<keyof Limits, string>> = {
  fileBytes: 'EXRAY_MAX_FILE_BYTES',
  imagePixels: 'EXRAY_MAX_IMAGE_PIXELS',
  preprocessPixels: 'EXRAY_MAX_PREPROCESS_PIXELS',
  tensorElements: 'EXRAY_MAX_TENSOR_ELEMENTS',
  blobBytes: 'EXRAY_MAX_BLOB_BYTES',
  traceBytes: 'EXRAY_MAX_TRACE_BYTES',
  headerBytes: 'EXRAY_MAX_HEADER_BYTES',
  nodes: 'EXRAY_MAX_NODES',
  runs: 'EXRAY_MAX_RUNS',
  warmup: 'EXRAY_MAX_WARMUP',
};

/** The limits in force: the defaults, each overridden by its environment variable when set. */
export function limits(env: Record<string, string | undefined> = globalThis.process?.env ?? {}): Limits {
  const out = { ...LIMIT_DEFAULTS };
  for (const key of Object.keys(LIMIT_ENV) as (keyof Limits)[]) {
    const name = LIMIT_ENV[key];
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const v = Number(raw);
    if (!Number.isSafeInteger(v) || v < 0) throw new ExrayInputError(name, `must be a non-negative integer, got ${JSON.stringify(raw)}`);
    out[key] = v;
  }
  return out;
}

/**
 * `--max NAME=VALUE` (the CLI's global option): the environment variable a limit name sets, with the
 * value checked. NAME is a Limits key (`imagePixels`) or its variable (`EXRAY_MAX_IMAGE_PIXELS`).
 */
export function parseLimitOverride(spec: string): { env: string; value: string } {
  const m = /^([A-Za-z_]+)=(.+)$/.exec(spec.trim());
  if (!m) throw new ExrayInputError('--max', `expected NAME=VALUE (e.g. imagePixels=400000000), got ${JSON.stringify(spec)}`);
  const [, name, raw] = m as unknown as [string, string, string];
  const key = (Object.keys(LIMIT_ENV) as (keyof Limits)[]).find((k) => k === name || LIMIT_ENV[k] === name);
  if (!key) throw new ExrayInputError('--max', `unknown limit ${name} (one of ${Object.keys(LIMIT_ENV).join(', ')})`);
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0) throw new ExrayInputError('--max', `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return { env: LIMIT_ENV[key], value: String(v) };
}

/** A byte count for messages: 3.9 GiB, 12 MiB, 512 bytes (one formatter, shared with the trace reader). */
export { formatBytes };

/** "over the limit of 2 GiB (EXRAY_MAX_FILE_BYTES)" */
export function overLimit(key: keyof Limits, limit: number, bytes = false): string {
  return `over the limit of ${bytes ? formatBytes(limit) : limit.toLocaleString('en-US')} (${LIMIT_ENV[key]} raises it)`;
}

/** Throws when `value` exceeds limit `key`: `<file>: <what> is <value>, over the limit of …`. */
export function checkLimit(file: string, key: keyof Limits, value: number, what: string, opts: { bytes?: boolean; limits?: Limits } = {}): void {
  const limit = (opts.limits ?? limits())[key];
  if (value > limit) {
    const shown = opts.bytes ? formatBytes(value) : value.toLocaleString('en-US');
    throw new ExrayInputError(file, `${what} is ${shown}, ${overLimit(key, limit, opts.bytes)}`);
  }
}

/** `--runs` and `--warmup` within EXRAY_MAX_RUNS / EXRAY_MAX_WARMUP; the message names the flag. */
export function checkRunCounts(opts: { runs?: number; warmup?: number }): void {
  const l = limits();
  if (opts.runs !== undefined && opts.runs > l.runs) {
    throw new ExrayInputError('--runs', `${opts.runs} timed runs is over the limit of ${l.runs.toLocaleString('en-US')} (${LIMIT_ENV.runs} raises it)`);
  }
  if (opts.warmup !== undefined && opts.warmup > l.warmup) {
    throw new ExrayInputError('--warmup', `${opts.warmup} warm-up runs is over the limit of ${l.warmup.toLocaleString('en-US')} (${LIMIT_ENV.warmup} raises it)`);
  }
}
