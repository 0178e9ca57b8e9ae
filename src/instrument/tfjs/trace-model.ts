/**
 * traceModel: run a TF.js model under instrumentation and produce a trace (and its event stream).
 *
 * Passes, in this order, each on the same input:
 *   1. warm-up (cold run timed separately: shader compilation, wasm init),
 *   2. N plain runs → whole-inference median (nothing attached),
 *   3. timing pass inside `tf.profile` → every kernel with its backend-measured time, mapped to nodes,
 *   4. capture pass (`stats` / `tensors` modes) → every node's outputs read back.
 * Timing and capture are separate passes because read-back perturbs timing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';
import type {
  BlobData,
  Clock,
  DType,
  IOSpec,
  KernelRecord,
  NamedTensor,
  NodeRecord,
  Trace,
  TraceEvent,
  TensorRecord,
  TensorStats,
} from '../../trace/types.ts';
import { TraceBuilder } from '../../trace/events.ts';
import { computeStats } from '../../trace/stats.ts';
import { newTraceId, blobIdFor } from '../../trace/ids.ts';
import { collectEnvironment } from './environment.ts';
import { median, type TraceRunOptions } from '../common.ts';
import { declaredNodeCount, isGraphModel, type TfjsModel } from './hooks.ts';
import { captureCopies, capturePass, Runner, STATS_POOL_IN_FLIGHT_BYTES, timingPass, type ModelInputs } from './passes.ts';
import { tfjsVersion } from './version.ts';
import type { BlobPool } from './blob-pool.ts';
import type { StatsPool } from '../../trace/stats-pool.ts';
import type { CaptureMemory } from '../../trace/ready-memory.ts';
import type { PolledStats } from '../../trace/stats-ring.ts';

export interface TraceModelOptions extends TraceRunOptions {
  /**
   * The model's input names as its files declare them. LayersModel renames an input layer that was
   * already loaded once in the process (`input_1` → `input_1_1`), which would break name alignment
   * between two traces made in one process.
   */
  inputNames?: string[];
  /**
   * streamModel: node values are copied into this pool's buffers, and a consumer done with a blob
   * (written, sent) may `release` it for the next capture to reuse. Blobs still referenced must not
   * be released (traceModel keeps them all in the trace).
   */
  blobPool?: BlobPool;
  /**
   * Where the capture pass computes statistics on cpu/wasm (Node: NodeStatsPool, worker threads fed
   * the copies, while the run goes on). Default: on this thread, in the wasm heap, as each node ends.
   * Warmed when the run starts, so its threads are up by the capture pass.
   */
  statsPool?: StatsPool;
  /**
   * cpu/wasm captures that keep values and compute statistics here (no `statsPool`, no `blobPool`):
   * each copy goes into an array this memory made ready (pages touched on another thread) while the
   * timing passes ran, instead of new memory whose page faults this thread would pay (the page:
   * WebReadyMemory, whose arrays the transport then moves on).
   */
  memory?: CaptureMemory;
  /**
   * cpu/wasm captures without a `statsPool`: float32 statistics computed by this ring's worker from a
   * copy in shared memory while the run goes on, read back as later nodes end (src/trace/stats-ring.ts);
   * nodes still stream during the run, a few behind. The page's way where it is cross-origin isolated.
   */
  statsRing?: PolledStats;
}

/** The clock behind `tf.profile`'s kernelTimeMs on each TF.js backend. */
export function kernelClock(backend: string): Clock {
  switch (backend) {
    case 'webgl':
      return 'gpu-timer-query';
    case 'webgpu':
      return 'gpu-timestamp';
    default:
      // cpu, wasm: the backend timer is performance.now() around a synchronous kernel.
      return 'wall';
  }
}

/** Timing passes at most, and the time they may take together (see the timing pass below). */
const TIMING_PASSES = 3;
const TIMING_BUDGET_MS = 1500;
/** The most a capture waits for its copies' memory to be made ready (ReadyMemory). */
const MEMORY_WAIT_MS = 2000;

/** A profiled kernel's time in ms, null when the backend gave none. */
function kernelMs(k: { kernelTimeMs: unknown }): number | null {
  const t = k.kernelTimeMs;
  return typeof t === 'number' && Number.isFinite(t) ? t : null;
}

const fmtMs = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toPrecision(2));

const TFJS_DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'string'];
function toDType(d: string): DType {
  return TFJS_DTYPES.includes(d as DType) ? (d as DType) : 'float32';
}

/**
 * Values as stored in a blob: int32 stays exact, everything else becomes float32. Arrays the backend
 * still owns are copied: a blob may later be transferred to another thread, which would detach the
 * tensor's memory under the backend (or another blob sharing it).
 */
function toBlobData(values: ArrayLike<number>, dtype: string, backendOwned: boolean, pool?: BlobPool): BlobData {
  const copy = (v: Float32Array | Int32Array): BlobData => (pool ? pool.copyOf(v) : v.slice());
  if (dtype === 'int32') return values instanceof Int32Array ? (backendOwned ? copy(values) : values) : Int32Array.from(values);
  return values instanceof Float32Array ? (backendOwned ? copy(values) : values) : Float32Array.from(values);
}

interface IOInfo {
  name?: string;
  shape?: readonly (number | null)[];
  dtype?: string;
}

function inputNames(model: TfjsModel): string[] {
  return (model.inputs as IOInfo[]).map((i, k) => i.name ?? `input_${k}`);
}

function outputNames(model: TfjsModel): string[] {
  return isGraphModel(model) ? model.outputNodes : model.outputNames;
}

function ioSpecs(infos: IOInfo[], names: string[]): IOSpec[] {
  return infos.map((info, k) => ({
    name: names[k] ?? info.name ?? `io_${k}`,
    shape: (info.shape ?? []).map((d) => (d == null || d < 0 ? null : d)),
    dtype: toDType(info.dtype ?? 'float32'),
  }));
}

/**
 * Trace one model on the current TF.js backend (`tf.setBackend` first) and return the trace. The
 * model and input tensors stay owned by the caller; everything exray allocates is released before
 * this returns. `onEvent` sees every event as it happens but must not detach blob buffers (the trace
 * returned holds them): a consumer that moves buffers elsewhere uses `streamModel`.
 */
export async function traceModel(model: TfjsModel, inputs: ModelInputs, options: TraceModelOptions = {}): Promise<Trace> {
  const builder = new TraceBuilder();
  await streamModel(model, inputs, {
    ...options,
    onEvent: (e) => {
      builder.push(e);
      options.onEvent?.(e);
    },
  });
  return builder.finish();
}

/**
 * Run the traced passes and only emit the events: nothing is kept, so `onEvent` owns every blob it
 * receives (it may transfer the buffer to another thread). Resolves after `run-end`.
 */
export async function streamModel(model: TfjsModel, inputs: ModelInputs, options: TraceModelOptions = {}): Promise<void> {
  const capture = options.capture ?? 'stats';
  // runs: 0 = values only: no plain runs and no timing summary (a reference that needs node values).
  const valuesOnly = options.runs === 0;
  const runs = valuesOnly ? 0 : Math.max(1, options.runs ?? 5);
  const warmup = valuesOnly ? 0 : Math.max(0, options.warmup ?? 1);
  const bins = options.histogramBins ?? 32;
  const backend = tf.getBackend();
  const clock = kernelClock(backend);
  // Only wasm reads return fresh arrays; cpu hands out its own storage and webgl/webgpu cache the
  // downloaded values on the (possibly shared) data id.
  const backendOwned = backend !== 'wasm';
  const emit = (e: TraceEvent): void => options.onEvent?.(e);
  const warnings: string[] = [];
  const runner = new Runner(model, inputs);
  if (capture !== 'timing') options.statsPool?.warm();

  // ---- run start: identity, environment and the exact input ----------------------------------
  const inNames = options.inputNames ?? inputNames(model);
  const feedList: Tensor[] = inputs instanceof tf.Tensor ? [inputs] : Array.isArray(inputs) ? inputs : inNames.map((n) => (inputs as NamedTensorMap)[n]!);
  const inputTensors: NamedTensor[] = [];
  const inputBlobs: TraceEvent[] = [];
  for (let k = 0; k < feedList.length; k++) {
    const t = feedList[k];
    if (!t) throw new Error(`exray: no tensor given for model input "${inNames[k]}"`);
    const name = inNames[k] ?? `input_${k}`;
    const id = blobIdFor(`input:${name}`, 0);
    const data = toBlobData((await t.data()) as ArrayLike<number>, t.dtype, backendOwned);
    inputBlobs.push({ type: 'blob', id, data });
    inputTensors.push({
      name,
      shape: [...t.shape],
      dtype: toDType(t.dtype),
      stats: computeStats(data, bins),
      blob: { id, encoding: data instanceof Int32Array ? 'int32' : 'float32', length: data.length },
    });
  }
  const outNames = outputNames(model);
  const id = newTraceId();
  emit({
    type: 'run-start',
    id,
    createdAt: new Date().toISOString(),
    ...(options.label ? { label: options.label } : {}),
    capture,
    model: {
      name: options.modelName ?? 'model',
      format: isGraphModel(model) ? 'tfjs-graph' : 'tfjs-layers',
      sha256: options.modelSha256 ?? '',
      inputs: ioSpecs(model.inputs as IOInfo[], inNames),
      outputs: ioSpecs(model.outputs as IOInfo[], outNames),
      nodeCount: declaredNodeCount(model),
    },
    runtime: { name: 'tfjs', version: tfjsVersion(), backend },
    environment: collectEnvironment(options.environment),
    input: {
      tensors: inputTensors,
      ...(options.source ? { source: options.source } : {}),
      ...(options.preprocess ? { preprocess: options.preprocess } : {}),
    },
    ...(options.referenceFor ? { referenceFor: options.referenceFor } : {}),
  });
  for (const b of inputBlobs) emit(b);

  const totalPasses = (valuesOnly ? 0 : 1) + warmup + runs + 1 + (capture === 'timing' ? 0 : 1);
  let done = 0;
  const progress = (phase: string): void => emit({ type: 'progress', phase, done: done++, total: totalPasses });

  // ---- 1 + 2: cold run, warm-up, timed plain runs -----------------------------------------------
  if (!valuesOnly) {
    progress('cold run');
    const firstRunMs = await runner.timedRun();
    for (let i = 0; i < warmup; i++) {
      progress('warm-up');
      await runner.timedRun();
    }
    const runMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      progress('timed runs');
      runMs.push(await runner.timedRun());
    }
    emit({ type: 'timing', timing: { warmupRuns: warmup, runMs, medianMs: median(runMs), firstRunMs } });
  }

  // ---- 3: timing pass: kernels with backend time, attributed to nodes ---------------------------
  progress('timing pass');
  const t0 = performance.now();
  const timed = await timingPass(runner);
  let lastOutputs = timed.outputs;
  // The capture's copies for a StatsPool are known from this pass's shapes: their memory is made
  // ready (pages touched on another thread) while the passes below run.
  const captureOpts = capture === 'timing' ? null : captureOptions(capture, bins, options, keptBytes(timed.nodes, options.nodes));
  const copies = captureOpts && captureCopies(backend, captureOpts, timed.nodes);
  copies?.memory.expect?.(copies.lengths);
  // One timing pass can catch a kernel at a bad moment (GC, first-use compilation, a tab switch): a
  // single 98 ms BatchNorm among 6–12 ms ones dominated a wasm timeline (issue 12). While passes are
  // cheap, repeat them and keep each kernel's median, with its spread. Bounded by TIMING_BUDGET_MS so
  // large models pay for one pass only; a pass whose kernel sequence differs is not used.
  const samples: (number | null)[][] = timed.kernels.map((k) => [kernelMs(k)]);
  if (!valuesOnly) {
    let spent = performance.now() - t0;
    for (let p = 1; p < TIMING_PASSES && spent * ((p + 1) / p) <= TIMING_BUDGET_MS; p++) {
      const t1 = performance.now();
      const again = await timingPass(runner);
      tf.dispose(again.outputs);
      spent += performance.now() - t1;
      if (again.kernels.length !== timed.kernels.length || again.kernels.some((k, i) => k.name !== timed.kernels[i]!.name)) break;
      again.kernels.forEach((k, i) => samples[i]!.push(kernelMs(k)));
    }
  }
  const passes = samples[0]?.length ?? 1;
  const skeleton = timed.nodes.map((n) => ({ ...n, kernels: [] as number[] }));
  const nodeIndex = new Map(skeleton.map((n, i) => [n.name, i]));
  const kernels: KernelRecord[] = [];
  for (let i = 0; i < timed.kernels.length; i++) {
    const k = timed.kernels[i]!;
    const finite = samples[i]!.filter((x): x is number => x !== null);
    const ms = finite.length === samples[i]!.length ? median(finite) : null;
    const node = timed.kernelOwner[i] ?? null;
    if (node !== null) skeleton[nodeIndex.get(node)!]?.kernels.push(i);
    kernels.push({
      index: i,
      name: k.name,
      node,
      ms,
      clock: ms === null ? 'unavailable' : clock,
      inputShapes: k.inputShapes.map((sh) => (sh ? [...sh] : null)),
      outputShapes: k.outputShapes.map((sh) => [...sh]),
      ...(ms !== null && passes > 1 ? { msRange: [Math.min(...finite), Math.max(...finite)] as [number, number] } : {}),
    });
  }
  const unstable = kernels.filter((k) => k.ms !== null && k.msRange && k.msRange[1] > 1 && k.msRange[1] > 3 * Math.max(k.ms, 0.05));
  if (unstable.length > 0) {
    const worst = unstable.reduce((a, b) => (b.msRange![1] - b.ms! > a.msRange![1] - a.ms! ? b : a));
    warnings.push(`kernel times varied across ${passes} timing passes for ${unstable.length} kernel(s) (worst: ${worst.name} of ${worst.node ?? '(no node)'}, ${fmtMs(worst.msRange![0])}–${fmtMs(worst.msRange![1])} ms): each kernel's median is recorded`);
  }
  if (kernels.some((k) => k.ms === null)) warnings.push(`backend ${backend}: some kernel times are unavailable (clock 'unavailable')`);
  if (runner.usesAsync) warnings.push('model ran with executeAsync: kernels of nodes that overlap in time are attributed to the node that ended first');
  for (const k of kernels) emit({ type: 'kernel', kernel: k });

  const nodeRecord = (i: number, outputs: TensorRecord[]): NodeRecord => {
    const s = skeleton[i]!;
    return { index: i, name: s.name, op: s.op, kernels: s.kernels, outputs, inputs: s.inputs };
  };

  // ---- 4: capture pass ----------------------------------------------------------------------------
  if (capture === 'timing') {
    skeleton.forEach((s, i) => emit({ type: 'node', node: nodeRecord(i, s.outputs.map((o) => ({ shape: o.shape, dtype: toDType(o.dtype) }))) }));
  } else {
    progress('capture pass');
    // Copies made before their memory is ready would fault in here what is being made there, paying
    // twice; bounded, so a stalled thread only costs the faults it was to save.
    await copies?.memory.memoryReady?.(MEMORY_WAIT_MS);
    const keepValues = capture === 'tensors';
    tf.dispose(lastOutputs);
    lastOutputs = [];
    const captured = await capturePass(runner, backend, (c) => {
      const i = nodeIndex.get(c.name);
      if (i === undefined) {
        warnings.push(`node ${c.name} ran in the capture pass but not in the timing pass; not recorded`);
        return;
      }
      const outputs = c.outputs.map((o, k) => tensorRecord(c.name, k, o, c.values[k] ?? null, keepValues, c.stats?.[k] ?? null, c.copies));
      emit({ type: 'node', node: nodeRecord(i, outputs) });
    }, captureOpts ?? undefined);
    lastOutputs = captured.outputs;
    if (captured.visited !== skeleton.length) warnings.push(`capture pass saw ${captured.visited} nodes, timing pass ${skeleton.length}`);
    if (options.nodes) {
      const n = skeleton.filter((s) => options.nodes!.test(s.name)).length;
      warnings.push(`--nodes ${options.nodes.text}: ${n} of ${skeleton.length} nodes captured; the others were not read back and have no values`);
    }
  }

  // ---- run end: final outputs, from the last pass -------------------------------------------------
  const outputs: NamedTensor[] = [];
  try {
    for (let k = 0; k < lastOutputs.length; k++) {
      const t = lastOutputs[k]!;
      const name = outNames[k] ?? `output_${k}`;
      outputs.push({ name, ...tensorRecord(`output:${name}`, 0, t, (await t.data()) as ArrayLike<number>, true) });
    }
  } finally {
    tf.dispose(lastOutputs);
  }
  emit({ type: 'run-end', outputs, warnings });

  /** `stats`: already computed by the capture pass where the values lay (the same as of `data`). */
  function tensorRecord(node: string, k: number, t: { shape: readonly number[]; dtype: string }, values: ArrayLike<number> | null, keep: boolean, stats: TensorStats | null = null, copies = false): TensorRecord {
    const rec: TensorRecord = { shape: [...t.shape], dtype: toDType(t.dtype) };
    // Values null with statistics: read (on another thread) and not kept.
    if (!keep && stats) {
      rec.stats = stats;
      return rec;
    }
    if (!values) return rec;
    const data = toBlobData(values, t.dtype, backendOwned && !copies, options.blobPool);
    rec.stats = stats ?? computeStats(data, bins);
    if (keep) {
      const id = blobIdFor(node, k);
      // Describe the blob before emitting it: the consumer may transfer (detach) its buffer.
      rec.blob = { id, encoding: data instanceof Int32Array ? 'int32' : 'float32', length: data.length };
      emit({ type: 'blob', id, data });
    }
    return rec;
  }
}

/**
 * The capture pass's options for a `stats` / `tensors` capture as streamModel runs it (benchmarks use
 * this too, so they measure what a trace does).
 */
export function captureOptions(
  capture: 'stats' | 'tensors',
  bins: number,
  options: Pick<TraceModelOptions, 'blobPool' | 'statsPool' | 'nodes' | 'memory' | 'statsRing'>,
  /** A `tensors` capture: bytes of the values it keeps (from the timing pass's shapes), if known. */
  keepsBytes?: number,
): Parameters<typeof capturePass>[3] {
  // With the pool, kept values wait for the run's end (passes.ts STATS_POOL_IN_FLIGHT_BYTES): only when
  // they all fit; a larger model's values stream to the consumer node by node, statistics here.
  const pool = capture === 'stats' || (keepsBytes ?? 0) <= STATS_POOL_IN_FLIGHT_BYTES ? options.statsPool : undefined;
  return {
    borrow: capture !== 'tensors',
    stats: bins,
    ...(options.blobPool ? { pool: options.blobPool } : {}),
    ...(pool ? { statsPool: pool } : {}),
    ...(options.memory ? { memory: options.memory } : {}),
    ...(options.statsRing && !pool ? { statsRing: options.statsRing } : {}),
    ...(options.nodes ? { select: (name: string) => options.nodes!.test(name) } : {}),
  };
}

/** Bytes of the float32/int32 values of the selected nodes' outputs (4 bytes an element), from their shapes. */
function keptBytes(nodes: readonly { name: string; outputs: readonly { shape: readonly number[] }[] }[], select: { test(name: string): boolean } | undefined): number {
  let bytes = 0;
  for (const n of nodes) {
    if (select && !select.test(n.name)) continue;
    for (const o of n.outputs) bytes += 4 * o.shape.reduce((a, b) => a * b, 1);
  }
  return bytes;
}
