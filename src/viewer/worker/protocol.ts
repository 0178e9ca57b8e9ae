/**
 * Messages between the page and a trace worker (control only: trace events travel separately, through
 * a TraceTransport on the same endpoint). Structured-clone safe.
 */
import type { BlobData, CaptureMode, DType, InputRecord, InputSource, PreprocessSpec, Trace } from '../../trace/types.ts';
import type { InputFit } from '../../diagnose/types.ts';
import type { ModelCard } from '../../models/card-schema.ts';
import type { ReplayResult, TraceRunOptions } from '../../instrument/common.ts';
import { nodeSelection } from '../../instrument/node-select.ts';

export const BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu', 'webnn'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Backend options; the flags are set before the backend initialises (a fresh worker per run). */
export interface BackendOptions {
  /** WebGL: `WEBGL_FORCE_F16_TEXTURES=true` + `WEBGL_CPU_FORWARD=false`: half-float textures, as on many phone GPUs. */
  webglF16: boolean;
  /** WebGL: `WEBGL_PACK` (TF.js default true). */
  webglPack: boolean;
  /** wasm: allow the threaded build (needs cross-origin isolation). */
  wasmThreads: boolean;
  /** wasm: allow the SIMD build. */
  wasmSimd: boolean;
}

export const DEFAULT_BACKEND_OPTIONS: BackendOptions = { webglF16: false, webglPack: true, wasmThreads: true, wasmSimd: true };

export interface BackendProbe {
  name: BackendName;
  available: boolean;
  /** Why not, or what it is (`SwiftShader`, `SIMD, 1 thread`). */
  detail: string;
  /** Where it can run: in a worker, or only on the page's main thread. */
  where: 'worker' | 'main' | 'none';
}

/** A TF.js model (model.json + shards). `format` is absent in payloads made before ONNX jobs existed. */
export interface TfjsModelPayload {
  format?: 'tfjs';
  name: string;
  sha256: string;
  /** Parsed model.json. */
  modelJson: Record<string, unknown>;
  /** Weight shards in manifest order (groups in order, paths in order). */
  shards: ArrayBuffer[];
  /** The card says the model needs executeAsync (informational: the runner detects it by itself). */
  async: boolean;
}

/**
 * An ONNX model: the `.onnx` bytes, run with the onnxruntime instrumenter on onnxruntime-web (the
 * job's backend is its execution provider: `wasm` or `webgpu`).
 */
export interface OnnxModelPayload {
  format: 'onnx';
  name: string;
  sha256: string;
  bytes: ArrayBuffer;
  card: ModelCard | null;
}

export type ModelPayload = TfjsModelPayload | OnnxModelPayload;

/** Backends that can run an ONNX model in the page (onnxruntime-web execution providers). */
export const ONNX_BACKENDS: readonly BackendName[] = ['wasm', 'webgpu', 'webnn'];

/** Why a backend cannot run ONNX models in the page, or null when it can. */
export function onnxUnsupported(b: BackendName): string | null {
  if (b === 'cpu') return 'ONNX: onnxruntime-web has no cpu execution provider (the reference is onnxruntime-web wasm)';
  if (b === 'webgl') return 'ONNX: exray does not trace onnxruntime-web\'s WebGL provider (deprecated upstream)';
  return null;
}

/** Why a backend cannot run a TF.js model in the page, or null when it can. */
export function tfjsUnsupported(b: BackendName): string | null {
  return b === 'webnn' ? 'TF.js has no WebNN backend: WebNN runs ONNX models (onnxruntime-web webnn)' : null;
}

/** Why a backend cannot run a model of this format in the page, or null when it can. */
export function backendUnsupported(b: BackendName, format: 'onnx' | 'tfjs' | undefined): string | null {
  return format === 'onnx' ? onnxUnsupported(b) : tfjsUnsupported(b);
}

/** A further named input of a multi-input ONNX model (state tensors, sample rates, …). */
export interface NamedInputPayload {
  name: string;
  data: Float32Array | Int32Array;
  shape: number[];
  dtype: DType;
}

export interface InputPayload {
  /** The model input this tensor feeds (ONNX jobs; TF.js models take their single input). */
  name?: string;
  /** ONNX jobs: the model's other inputs. */
  others?: NamedInputPayload[];
  data: Float32Array | Int32Array;
  shape: number[];
  dtype: 'float32' | 'int32';
  source?: InputSource;
  preprocess?: PreprocessSpec;
}

export interface RunJob {
  /** Stream name the events carry. */
  stream: string;
  backend: BackendName;
  options: BackendOptions;
  label: string;
  capture: CaptureMode;
  runs: number;
  warmup: number;
  referenceFor?: string;
  /** `--nodes` patterns (node-select.ts): the nodes a stats / tensors capture reads; absent: every node. */
  nodes?: string[];
  /** ONNX: the bytes of node outputs one capture run may expose (`--max-memory`); over it, several passes. */
  maxMemoryBytes?: number;
}

/** Requests to the utility worker (util-worker.ts: no TF.js) and to a trace worker (trace-worker.ts). */
export type WorkerRequest =
  | { type: 'probe'; id: number }
  | { type: 'prepare'; id: number; blob: Blob; fileName: string; spec: PreprocessSpec }
  | { type: 'fit-input'; id: number; blob: Blob; fileName: string; spec: PreprocessSpec; edge: FitEdgeInput }
  /** An opened `.exray` file, decoded (inflated, checked) in the utility worker, not on the page. */
  | { type: 'decode-trace'; id: number; file: File }
  | { type: 'run'; id: number; model: ModelPayload; input: InputPayload; job: RunJob }
  | { type: 'replay'; id: number; model: ModelPayload; edge: Trace; job: ReplayJob };

/**
 * Single-node replay (replay-job.ts): load the reference model on `backend` (TF.js cpu/wasm; ONNX:
 * onnxruntime-web wasm) and run each node alone on the edge trace's recorded inputs. The `edge` sent
 * is `replayEdge(edge, nodes)`: the header and only the blobs those nodes read.
 */
export interface ReplayJob {
  backend: BackendName;
  options: BackendOptions;
  nodes: string[];
}

/** Node replays, one per requested node (a node that could not be replayed has `error`). */
export interface ReplayAnswer {
  results: ReplayResult[];
  /** Wall times in the worker, ms. */
  loadMs: number;
  replayMs: number;
}

/** `name:k` / `^name` → the recorded value's node (or graph input) name. */
function producerName(input: string): string {
  return input.replace(/^\^/, '').replace(/:\d+$/, '');
}

/**
 * The part of `edge` a replay of `nodes` reads: the header, the graph inputs' blobs and every output
 * blob of each node's recorded producers (`NodeRecord.inputs`). Blobs are shared, not copied: posting
 * the result structured-clones only these.
 */
export function replayEdge(edge: Trace, nodes: readonly string[]): Trace {
  const byName = new Map(edge.header.nodes.map((n) => [n.name, n]));
  const ids = new Set<string>();
  for (const t of edge.header.input.tensors) if (t.blob) ids.add(t.blob.id);
  for (const name of nodes) {
    for (const input of byName.get(name)?.inputs ?? []) {
      const p = producerName(input);
      for (const o of byName.get(p)?.outputs ?? []) if (o.blob) ids.add(o.blob.id);
    }
  }
  const blobs = new Map<string, BlobData>();
  for (const id of ids) {
    const b = edge.blobs.get(id);
    if (b) blobs.set(id, b);
  }
  return { header: edge.header, blobs };
}

/** A diagnosis against the original photo: the edge trace's input record and values (state/photo-diagnosis.ts). */
export interface FitEdgeInput {
  file: string;
  input: InputRecord;
  data: BlobData;
}

/** The canonical input made from the original photo, and the input search against the edge's input. */
export interface FittedInput {
  input: PreparedInput;
  fit: InputFit | null;
  warnings: string[];
  /** Wall times in the worker, ms. */
  decodeMs: number;
  searchMs: number;
}

export interface PreparedInput extends InputPayload {
  source: InputSource;
  preprocess: PreprocessSpec;
}

export type WorkerResponse =
  | { type: 'probed'; id: number; backends: BackendProbe[] }
  | { type: 'prepared'; id: number; input: PreparedInput }
  | { type: 'input-fitted'; id: number; fitted: FittedInput }
  /** Its blobs' buffers are transferred, not copied. */
  | { type: 'trace-decoded'; id: number; trace: Trace }
  | { type: 'status'; id: number; phase: string }
  | { type: 'ran'; id: number; stream: string }
  | { type: 'replayed'; id: number; answer: ReplayAnswer }
  | { type: 'failed'; id: number; message: string; file?: string };

/** The trace options every job passes to its instrumenter (TF.js or ONNX Runtime). */
export function traceRunOptions(model: { name: string; sha256: string }, input: InputPayload, job: RunJob): TraceRunOptions {
  return {
    capture: job.capture,
    runs: job.runs,
    warmup: job.warmup,
    modelName: model.name,
    modelSha256: model.sha256,
    ...(input.source ? { source: input.source } : {}),
    ...(input.preprocess ? { preprocess: input.preprocess } : {}),
    label: job.label,
    ...(job.referenceFor ? { referenceFor: job.referenceFor } : {}),
    ...(job.nodes?.length ? { nodes: nodeSelection(job.nodes) } : {}),
  };
}
