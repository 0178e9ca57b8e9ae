/**
 * The exray trace: one run of one model on one backend.
 *
 * This file is the data contract shared by every producer (TF.js / ORT instrumenters, in the browser
 * and in Node) and every consumer (compare, diagnose, viewer, CLI). It is pure data: no DOM, no Node.
 * The on-disk form (`.exray`) and the field meanings are documented in docs/trace-format.md.
 */

export const TRACE_FORMAT = 'exray-trace' as const;
/** Bumped on any incompatible change of the header or blob layout. Readers reject other versions. */
export const TRACE_VERSION = 1 as const;

/** Tensor element types a model can declare. Blobs always store values as float32 or int32 (see BlobRef). */
export type DType = 'float32' | 'float16' | 'int32' | 'int64' | 'int8' | 'uint8' | 'bool' | 'string';

/** How much the instrumenter records per node. */
export type CaptureMode = 'timing' | 'stats' | 'tensors';

/**
 * Which clock produced a duration. Numbers from different clocks are not comparable: a GPU timer query
 * measures GPU work only, a wall clock around a synchronous kernel includes dispatch, a wall clock with
 * read-back includes the GPU→CPU copy.
 */
export type Clock =
  | 'wall' // performance.now() around a synchronous CPU/wasm kernel (TF.js cpu/wasm backend timer)
  | 'wall-with-readback' // wall clock that includes waiting for a GPU read-back
  | 'gpu-timer-query' // WebGL EXT_disjoint_timer_query (TF.js webgl backend timer)
  | 'gpu-timestamp' // WebGPU timestamp-query
  | 'ort-profiler' // onnxruntime session profiler (Chrome-trace events)
  | 'unavailable'; // the backend could not time this kernel; `ms` is null

export interface Histogram {
  /** Lower edge of the first bin. */
  min: number;
  /** Upper edge of the last bin. */
  max: number;
  /** Equal-width bins over [min, max] of the finite values. */
  counts: number[];
}

export interface TensorStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  nanCount: number;
  infCount: number;
  zeroCount: number;
  histogram: Histogram;
}

/** Reference to a binary blob inside a trace (`tensors/<id>.bin` in the file; little-endian). */
export interface BlobRef {
  id: string;
  /** float32 for every node tensor; int32 keeps integer model inputs exact. */
  encoding: 'float32' | 'int32';
  /** Number of elements. */
  length: number;
}

export interface TensorRecord {
  shape: number[];
  dtype: DType;
  /** Present in `stats` and `tensors` capture modes. */
  stats?: TensorStats;
  /** Present in `tensors` capture mode. */
  blob?: BlobRef;
}

export interface NamedTensor extends TensorRecord {
  name: string;
}

export interface NodeRecord {
  /** Position in execution order (0-based). Topological for graphs run without control flow. */
  index: number;
  /** Graph node name (GraphModel / ONNX) or layer name (LayersModel; nested models as `outer/inner`). */
  name: string;
  /** Op type (`Conv2D`, `FusedDepthwiseConv2dNative`, ...) or layer class (`Conv2D`, `ReLU`, ...). */
  op: string;
  /** Indices into `TraceHeader.kernels` of the kernels this node ran. */
  kernels: number[];
  /** One record per output; index i is output `name:i`. */
  outputs: TensorRecord[];
  /** Names of the nodes whose outputs this node consumed (empty when unknown). */
  inputs: string[];
  /**
   * How this node's values were recorded when that is not plainly, or why it has none: a node inside
   * an ONNX control-flow body (`If_25/then/Conv_73`) whose branch did not run, whose values are
   * stacked per Loop iteration, or that exray cannot expose.
   */
  note?: string;
}

export interface KernelRecord {
  index: number;
  /** Kernel name as the runtime registered it (`Conv2D`, `FusedConv2D`, ...). */
  name: string;
  /** The node that ran it, or null for kernels outside any node (input casts, output read-back). */
  node: string | null;
  /** Duration in milliseconds, measured by `clock`; null when the clock is `unavailable`. */
  ms: number | null;
  /**
   * Fastest and slowest time over several timing passes when more than one ran (`ms` is then their
   * median). Absent after a single pass.
   */
  msRange?: [number, number];
  clock: Clock;
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
}

export type ModelFormat = 'tfjs-graph' | 'tfjs-layers' | 'onnx';

export interface ModelIdentity {
  name: string;
  format: ModelFormat;
  /** sha256 (hex) over the model topology file and all weight files in manifest order. */
  sha256: string;
  inputs: IOSpec[];
  outputs: IOSpec[];
  /** Number of nodes (graph nodes, or leaf layers) the model declares, before any pruning at run time. */
  nodeCount: number;
}

export interface IOSpec {
  name: string;
  /** null for a symbolic / unknown dimension. */
  shape: (number | null)[];
  dtype: DType;
}

export type RuntimeName = 'tfjs' | 'onnxruntime-web' | 'onnxruntime-node';

export interface RuntimeInfo {
  name: RuntimeName;
  version: string;
  /** `cpu`, `wasm`, `webgl`, `webgpu` (TF.js) or the execution provider (`wasm`, `webgpu`, `cpu`). */
  backend: string;
}

export interface WebGLInfo {
  version: number;
  vendor: string;
  renderer: string;
  maxTextureSize: number;
  /** Whether float32 textures can be rendered to; false means half-float (the phone case). */
  floatTextures: boolean;
}

export interface WebGPUInfo {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
}

export interface Environment {
  kind: 'browser' | 'node';
  /** navigator.userAgent in a browser, `Node.js vX (platform arch)` in Node. */
  userAgent: string;
  platform: string;
  hardwareConcurrency: number;
  /** Threads the backend actually uses (wasm thread pool size), when known. */
  threads?: number;
  crossOriginIsolated?: boolean;
  /** Smallest positive float the backend distinguishes from zero (TF.js `backend.floatPrecision()`: 32 or 16). */
  floatPrecision?: number;
  /** Runtime flags in force (TF.js env flags that differ from defaults, ORT env settings). */
  flags: Record<string, string | number | boolean>;
  webgl?: WebGLInfo;
  webgpu?: WebGPUInfo;
}

/**
 * How an image becomes a model input. One spec per image input; see docs/model-card.md.
 * value = (pixel * scale - mean[c]) / std[c], pixel in [0, 255], channels in `channels` order.
 */
export interface PreprocessSpec {
  width: number;
  height: number;
  resize: {
    /** bicubic: Keys a = −0.5, half-pixel centres; lanczos3: a = 3 windowed sinc, pixel centres (docs/model-card.md). */
    method: 'bilinear' | 'nearest' | 'area' | 'bicubic' | 'lanczos3';
    alignCorners: boolean;
    halfPixelCenters: boolean;
    antialias: boolean;
    /**
     * 'mip-level': Chromium's canvas drawImage (imageSmoothingQuality 'low'): first a half-pixel
     * bilinear pre-scale to 2^-L of the size (rounded up, 8-bit), L = ⌊log2⌋ of the smaller downscale
     * factor, then the method. Only with bilinear + halfPixelCenters. Absent: none.
     */
    prescale?: 'mip-level';
  };
  /** stretch: resize whole image; center-crop: crop to aspect then resize; letterbox: pad to aspect. */
  fit: 'stretch' | 'center-crop' | 'letterbox';
  channels: 'rgb' | 'bgr' | 'grayscale';
  layout: 'nhwc' | 'nchw';
  scale: number;
  mean: number[];
  std: number[];
  dtype: 'float32' | 'int32' | 'uint8';
  /** Whether EXIF orientation is applied before resizing (what a correct pipeline does). */
  exif: 'apply' | 'ignore';
  /** What happens to an alpha channel: dropped as stored, or RGB premultiplied by alpha. */
  alpha: 'ignore' | 'premultiply';
  /** Weights for `channels: grayscale` (r, g, b). */
  grayWeights?: [number, number, number];
}

export interface InputSource {
  fileName: string;
  sha256: string;
  width: number;
  height: number;
  /** EXIF orientation tag 1..8 (1 when absent). */
  exifOrientation: number;
  mimeType: string;
  /** Description of the embedded ICC colour profile (e.g. "Display P3"); absent when the file has none. */
  iccProfile?: string;
}

export interface InputRecord {
  /** The exact tensors fed to the model, one per model input (blob always present). */
  tensors: NamedTensor[];
  source?: InputSource;
  preprocess?: PreprocessSpec;
}

export interface TimingSummary {
  warmupRuns: number;
  /** Whole-inference wall time of each measured run (inference + output read-back), ms. */
  runMs: number[];
  medianMs: number;
  /** The first (cold) run, including kernel compilation / shader warm-up. */
  firstRunMs: number;
}

export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  id: string;
  createdAt: string;
  /** Free-form label (e.g. device name in a farm run, `reference`). */
  label?: string;
  /**
   * Set when float blobs were stored narrowed (`exray trace --precision`): every value of a node or
   * output blob is within 2^-11 (float16) / 2^-8 (bfloat16) relative of what the run computed
   * (docs/trace-format.md "Blob encodings"); input blobs and statistics are exact.
   */
  storagePrecision?: 'float16' | 'bfloat16';
  capture: CaptureMode;
  model: ModelIdentity;
  runtime: RuntimeInfo;
  environment: Environment;
  input: InputRecord;
  timing?: TimingSummary;
  nodes: NodeRecord[];
  kernels: KernelRecord[];
  /** Final model outputs (blob always present). */
  outputs: NamedTensor[];
  /** Things the instrumenter could not do, said plainly (e.g. `async node X: kernel attribution approximate`). */
  warnings: string[];
  /** When this trace is a reference replay: the id of the trace whose input it replayed. */
  referenceFor?: string;
  /** How node values were captured under a memory budget (ONNX `stats` / `tensors` captures). */
  capturePlan?: CapturePlan;
}

/**
 * How the node values of a trace were captured: in one run, or in several runs of the same input, each
 * exposing a subset of the nodes, stitched into this one trace (docs/trace-format.md).
 */
export interface CapturePlan {
  /** Capture runs whose node values this trace holds (1: one run exposed every selected node). */
  passes: number;
  /** The budget for exposed outputs, bytes (`--max-memory`). */
  maxMemoryBytes: number;
  /** The largest cost of one pass, bytes, as planned from the sizes below. */
  largestPassBytes: number;
  /** Output sizes the plan used, counted by where they came from (`value_info`, `profiler`, `inputs`, `measured`). */
  sizesFrom: Record<string, number>;
  /** `--nodes` patterns, when only some nodes were captured. */
  nodes?: string;
  /** Nodes whose values were captured. */
  capturedNodes: number;
  /** Why this many passes, said plainly. */
  reason: string;
}

export type BlobData = Float32Array | Int32Array;

/** A trace in memory: the JSON header plus the binary blobs it references. */
export interface Trace {
  header: TraceHeader;
  blobs: Map<string, BlobData>;
}

// ---------------------------------------------------------------------------------------------
// The event stream. A producer emits these while the model runs; `TraceBuilder` (events.ts) folds
// them into a Trace. Every event is structured-clone / JSON safe except blob values, which travel as
// typed arrays (transferable in a worker, binary frames on a socket).
// ---------------------------------------------------------------------------------------------

export interface RunStartEvent {
  type: 'run-start';
  id: string;
  createdAt: string;
  label?: string;
  capture: CaptureMode;
  model: ModelIdentity;
  runtime: RuntimeInfo;
  environment: Environment;
  input: InputRecord;
  referenceFor?: string;
  /** Node and output values narrowed on their way (a producer's link precision); see TraceHeader. */
  storagePrecision?: 'float16' | 'bfloat16';
}

export interface BlobEvent {
  type: 'blob';
  id: string;
  data: BlobData;
}

export interface NodeEvent {
  type: 'node';
  node: NodeRecord;
}

export interface KernelEvent {
  type: 'kernel';
  kernel: KernelRecord;
}

export interface TimingEvent {
  type: 'timing';
  timing: TimingSummary;
}

export interface ProgressEvent {
  type: 'progress';
  /** What the producer is doing now, e.g. `warm-up`, `timing pass`, `capture pass`. */
  phase: string;
  done: number;
  total: number;
}

export interface RunEndEvent {
  type: 'run-end';
  outputs: NamedTensor[];
  warnings: string[];
  /** Known once the capture has run: goes to the header's `capturePlan`. */
  capturePlan?: CapturePlan;
}

export interface RunErrorEvent {
  type: 'run-error';
  message: string;
}

export type TraceEvent =
  | RunStartEvent
  | BlobEvent
  | NodeEvent
  | KernelEvent
  | TimingEvent
  | ProgressEvent
  | RunEndEvent
  | RunErrorEvent;

export type TraceEventSink = (event: TraceEvent) => void;
