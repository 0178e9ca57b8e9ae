/**
 * What every instrumenter shares (TF.js and onnxruntime alike): the run options a caller gives, the
 * device part of the environment, and the median of the timed runs. Pure: runs in page, worker, Node.
 */
import type { BlobData, CaptureMode, Environment, InputSource, PreprocessSpec, TraceEventSink } from '../trace/types.ts';
import type { NodeSelection } from './node-select.ts';

export interface TraceRunOptions {
  /** What to record per node. Default `stats`. */
  capture?: CaptureMode;
  /**
   * The nodes whose values a `stats` / `tensors` capture reads (`--nodes`, node-select.ts); the others
   * are not exposed or read at all and keep their shape only. Default: every node.
   */
  nodes?: NodeSelection;
  /**
   * Timed plain runs for the whole-inference median. Default 5. TF.js: 0 = values only (no cold,
   * warm-up or timed plain runs and no timing summary), for a reference that only needs node values.
   */
  runs?: number;
  /** Untimed warm-up runs after the cold first run. Default 1. */
  warmup?: number;
  /** Model identity: a name and the sha256 of its files (see src/models/hash.ts). */
  modelName?: string;
  modelSha256?: string;
  /** How the input was made, recorded verbatim. */
  source?: InputSource;
  preprocess?: PreprocessSpec;
  label?: string;
  referenceFor?: string;
  /** Receives every trace event as it happens (live streaming). */
  onEvent?: TraceEventSink;
  /** What only the caller knows about the environment (thread count, hardwareConcurrency in Node). */
  environment?: Partial<Environment>;
  /** Histogram bins per tensor. Default 32. */
  histogramBins?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface NodeProcessLike {
  version: string;
  platform: string;
  arch: string;
  versions?: { node?: string };
}

/** Where this runs: Node (version, platform) or a browser (user agent), and how many cores it reports. */
export function deviceEnvironment(): Pick<Environment, 'kind' | 'userAgent' | 'platform' | 'hardwareConcurrency'> {
  const p = (globalThis as { process?: NodeProcessLike }).process;
  const proc = p?.versions?.node ? p : undefined;
  const nav = (globalThis as { navigator?: { userAgent?: string; platform?: string; hardwareConcurrency?: number } }).navigator;
  return {
    kind: proc ? 'node' : 'browser',
    userAgent: proc ? `Node.js ${proc.version} (${proc.platform} ${proc.arch})` : (nav?.userAgent ?? 'unknown'),
    platform: proc ? `${proc.platform}-${proc.arch}` : (nav?.platform ?? 'unknown'),
    hardwareConcurrency: nav?.hardwareConcurrency ?? 1,
  };
}

/** One node replayed alone on a reference runtime (TF.js: instrument/tfjs/replay.ts; ONNX: instrument/ort/replay.ts). */
export interface ReplayResult {
  /** Node name as in the trace. */
  node: string;
  /** One entry per output (null: could not be read). */
  outputs: (BlobData | null)[];
  ms: number;
  /** Why the node could not be replayed. */
  error?: string;
}

/** The first line of an error's message (a replay's `error`). */
export function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}
