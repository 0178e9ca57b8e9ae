/** What `exray trace --browser` (Node) asks the runner page to do, and how files travel. */
import type { CaptureMode, DType, InputSource, PreprocessSpec } from '../trace/types.ts';
import type { ModelCard } from '../models/card-schema.ts';
import type { BackendName, BackendOptions } from '../viewer/worker/protocol.ts';

/** URL prefix the Node side answers through Playwright routes (model files, result upload). */
export const RUNNER_PREFIX = '/__exray/';

export interface RunnerRequest {
  /** `format: 'onnx'`: `modelFile` is the `.onnx` file, run with onnxruntime-web (wasm / webgpu). */
  model: { name: string; sha256: string; async: boolean; modelFile: string; format?: 'tfjs' | 'onnx'; card?: ModelCard };
  input: {
    name: string;
    shape: number[];
    dtype: 'float32' | 'int32';
    base64: string;
    source?: InputSource;
    preprocess?: PreprocessSpec;
    /** ONNX: the model's further named inputs. */
    others?: { name: string; shape: number[]; dtype: DType & ('float32' | 'int32' | 'int64'); base64: string }[];
  };
  backend: BackendName;
  options: BackendOptions;
  capture: CaptureMode;
  runs: number;
  warmup: number;
  label: string;
  /** Run in a worker (cpu, wasm) or on the page's main thread. */
  where: 'worker' | 'main';
  /** `--nodes` patterns. */
  nodes?: string[];
  /** `--max-memory`, bytes (ONNX). */
  maxMemoryBytes?: number;
  /**
   * Tests, `where: 'main'` only: where a cpu/wasm capture's statistics are computed and its copies
   * made: `here` (the page's thread, as each node ends, copies into new arrays), `memory` (here, copies
   * into a fresh WebReadyMemory's arrays: the viewer's way before the ring), `ring` (a fresh
   * WebStatsRing, up before the run, that keeps the copies too: the viewer's way) or `pool` (a
   * fresh WebStatsPool of 2 workers, up before the run, its copies' memory made ready).
   * Without it the run is the viewer's (its defaults).
   */
  statistics?: 'here' | 'memory' | 'pool' | 'ring';
}

export interface RunnerResult {
  ok: boolean;
  error?: string;
  /** Bytes of the uploaded .exray. */
  bytes?: number;
  /** With `statistics: 'pool'` or `ring`: arrays sent to the pool's workers, or handed to the ring. */
  statsJobs?: number;
  /** With `statistics: 'pool'`, `memory` or `ring`: copies made into memory made ready (ready-memory.ts). */
  readyCopies?: number;
}

/** `npm run bench` in the browser: tracing overhead of one model on one backend (main thread). */
export interface BenchRequest {
  model: RunnerRequest['model'];
  input: RunnerRequest['input'];
  backend: BackendName;
  options: BackendOptions;
  rounds: number;
}
