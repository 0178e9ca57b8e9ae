/**
 * The three ways exray runs a TF.js model: plain, the timing pass (tf.profile + node boundaries) and
 * the capture pass (every node's outputs read back). Separate so that benchmarks measure exactly what
 * traceModel runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensorMap, Tensor } from '@tensorflow/tfjs-core';
import { installHook, isGraphModel, type TfjsModel } from './hooks.ts';
import { profilingKernels, type ProfileKernelInternal } from './internals.ts';
import { bindStatsToWasmHeap, type WasmBackendLike } from './wasm-heap.ts';
import { newBlob, type BlobPool } from './blob-pool.ts';
import { NodesInOrder, toCopy } from './in-order.ts';
import { computeStats, DEFAULT_HISTOGRAM_BINS } from '../../trace/stats.ts';
import type { StatsPool, StatsResult } from '../../trace/stats-pool.ts';
import type { CaptureMemory } from '../../trace/ready-memory.ts';
import type { PolledStats } from '../../trace/stats-ring.ts';
import type { BlobData, TensorStats } from '../../trace/types.ts';

export type ModelInputs = Tensor | Tensor[] | NamedTensorMap;

/** Runs the model the way it must be run: predict (layers), execute, or executeAsync (control flow). */
export class Runner {
  private asyncMode = false;
  constructor(
    readonly model: TfjsModel,
    private readonly feed: ModelInputs,
  ) {}

  async run(): Promise<Tensor[]> {
    const m = this.model;
    if (!isGraphModel(m)) {
      const out = m.predict(this.feed as Tensor | Tensor[]);
      return Array.isArray(out) ? out : [out];
    }
    if (!this.asyncMode) {
      try {
        const out = m.execute(this.feed);
        return Array.isArray(out) ? out : [out];
      } catch (e) {
        // Control flow / dynamic ops: the executor says to use executeAsync. Nothing leaked: it ran in a tidy.
        if (!/executeAsync/.test(String(e))) throw e;
        this.asyncMode = true;
      }
    }
    const out = await m.executeAsync(this.feed);
    return Array.isArray(out) ? out : [out];
  }

  get usesAsync(): boolean {
    return this.asyncMode;
  }

  /** One plain run including output read-back; returns wall milliseconds. */
  async timedRun(): Promise<number> {
    const t0 = performance.now();
    const outs = await this.run();
    await Promise.all(outs.map((o) => o.data()));
    const ms = performance.now() - t0;
    tf.dispose(outs);
    return ms;
  }
}

export interface NodeSkeleton {
  name: string;
  op: string;
  inputs: string[];
  outputs: { shape: number[]; dtype: string }[];
}

export interface TimingPassResult {
  nodes: NodeSkeleton[];
  kernels: ProfileKernelInternal[];
  /** Node that ran each kernel (index-aligned with `kernels`), null outside any node. */
  kernelOwner: (string | null)[];
  /** The model outputs; the caller disposes them. */
  outputs: Tensor[];
}

/**
 * One run inside tf.profile with node hooks: kernel k belongs to the innermost node open when it
 * finished (LayersModel), or to the node whose end first follows it (GraphModel: a node's kernels
 * all finish before the executor moves on).
 */
export async function timingPass(runner: Runner): Promise<TimingPassResult> {
  const engine = tf.engine();
  const nodes: NodeSkeleton[] = [];
  const owner: (string | null)[] = [];
  const stack: string[] = [];
  let attributed = 0;
  const attribute = (endingNode: string | null): void => {
    const kernels = profilingKernels(engine);
    if (!kernels) return;
    const who = stack.length > 0 ? stack[stack.length - 1]! : endingNode;
    for (; attributed < kernels.length; attributed++) owner[attributed] = who;
  };
  const hook = installHook(runner.model, {
    onNodeStart(name) {
      attribute(null);
      stack.push(name);
    },
    onNodeEnd(v) {
      attribute(v.name);
      if (stack[stack.length - 1] === v.name) stack.pop();
      nodes.push({
        name: v.name,
        op: v.op,
        inputs: v.inputs,
        outputs: v.outputs.map((t) => (t ? { shape: [...t.shape], dtype: t.dtype } : { shape: [], dtype: 'float32' })),
      });
    },
  });
  let outputs: Tensor[] = [];
  let info: Awaited<ReturnType<typeof tf.profile>>;
  try {
    info = await tf.profile(async () => {
      outputs = await runner.run();
      return outputs;
    });
  } finally {
    hook.uninstall();
  }
  const kernels = info.kernels as unknown as ProfileKernelInternal[];
  for (let i = attributed; i < kernels.length; i++) owner[i] = null;
  return { nodes, kernels, kernelOwner: owner, outputs };
}

export interface CapturedNode {
  name: string;
  /** Values per output (null: unreadable dtype such as string). */
  values: (ArrayLike<number> | null)[];
  outputs: { shape: number[]; dtype: string }[];
  /**
   * With the `stats` option: each output's statistics, computed where its values lie (on wasm, in the
   * heap, before the copy), exactly as computeStats(values[k]) would give them; null where the caller
   * computes them itself (values not in a Float32Array / Int32Array of their dtype, GPU backends).
   */
  stats?: (TensorStats | null)[];
  /** The values are copies made for this capture (the caller owns them), not the backend's own arrays. */
  copies?: boolean;
}

const SYNC_READ_BACKENDS = new Set(['cpu', 'wasm']);

/** Values whose statistics computeStats gives the same on them as on the blob made of them (toBlobData). */
function blobShaped(values: ArrayLike<number>, dtype: string): values is Float32Array | Int32Array {
  return dtype === 'int32' ? values instanceof Int32Array : values instanceof Float32Array;
}

/**
 * A node output's values, read synchronously, and (bins given) their statistics. `borrow`: the caller
 * only looks at them inside the callback, so on wasm a view of the heap is enough (no copy); otherwise
 * the values are one copy of the heap (wasm) or the cpu backend's own immutable array. With `memory`
 * (not `borrow`), the copy goes into an array it made ready, and on cpu the values are copied too
 * (`copied`: the caller owns them).
 */
function readSync(t: Tensor, backend: string, borrow: boolean, bins: number | undefined, pool: BlobPool | undefined, memory?: CaptureMemory, ring?: PolledStats): Read {
  if (backend === 'wasm' && (t.dtype === 'float32' || t.dtype === 'int32')) {
    const view = (tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(t) as Float32Array | Int32Array;
    // The one copy a caller keeps; statistics from it or the heap view: by the ring's worker (from the
    // copy where it lies, when the ring made its memory, else from a copy in the ring), or here, in place.
    const kept = borrow ? null : pool ? pool.copyOf(view) : (memory && readyCopy(memory, view)) || null;
    const ticket = bins !== undefined && ring ? submit(ring, kept ?? view, bins) : null;
    const stats = bins !== undefined && ticket === null ? computeStats(view, bins) : null;
    return { values: borrow ? view : kept ?? view.slice(), stats, copied: !borrow, ticket };
  }
  const values = t.dataSync() as ArrayLike<number>;
  const shaped = blobShaped(values, t.dtype);
  const kept = memory && !borrow && !pool && shaped ? readyCopy(memory, values) ?? values.slice() : null;
  const ticket = bins !== undefined && ring && shaped ? submit(ring, kept ?? values, bins) : null;
  const stats = bins !== undefined && shaped && ticket === null ? computeStats(values, bins) : null;
  if (kept) return { values: kept, stats, copied: true, ticket };
  return { values, stats, copied: backend === 'wasm', ticket };
}

/** A float32 array's statistics handed to the ring (null: not float32, or refused: compute them here). */
function submit(ring: PolledStats, values: ArrayLike<number>, bins: number): number | null {
  return values instanceof Float32Array ? ring.submit(values, bins) : null;
}

/** One output read as its node ends: its statistics here, or a ring's ticket for them. */
interface Read {
  values: ArrayLike<number>;
  stats: TensorStats | null;
  copied: boolean;
  ticket: number | null;
}

/** `values` copied into an array `memory` made ready, or null when it has none of that size. */
function readyCopy(memory: CaptureMemory, values: Float32Array | Int32Array): BlobData | null {
  const out = memory.readyBlob(values instanceof Int32Array ? 'int32' : 'float32', values.length);
  out?.set(values);
  return out;
}

/**
 * Bytes of copies a capture may hold for a StatsPool. The pool's answers are only read after the run
 * (a synchronous run gives the event loop no turn), so whatever goes to it is held until then: a
 * `borrow` capture computes statistics in place, here, beyond this; a capture that keeps values uses
 * the pool only when all of them fit (captureOptions), else it streams node by node as before.
 */
export const STATS_POOL_IN_FLIGHT_BYTES = 128 * 1024 * 1024;

/** One output of a deferred node: read here (values, statistics), or its copy sent to the StatsPool. */
type Taken = { values: ArrayLike<number> | null; stats: TensorStats | null } | { job: Promise<StatsResult> } | null;

/**
 * One run that reads back every node's outputs. On cpu/wasm the read is a synchronous copy done while
 * the node's outputs are alive, so `onNode` streams during the run; on GPU backends a clone (a shared
 * texture, no copy) is kept and read back after the run, so the GPU pipeline is not stalled per node.
 * With `borrow`, values passed to `onNode` are only valid during the call (wasm heap views).
 * With a `statsPool` (and `stats`), cpu/wasm outputs are copied as their node ends and their statistics
 * computed by the pool (worker threads) while the run goes on; `onNode` is called after the run, in
 * node order, as they come back (a node with `values` null and `stats` given: read, not kept).
 * Returns the model outputs (the caller disposes them).
 */
export async function capturePass(
  runner: Runner,
  backend: string,
  onNode: (n: CapturedNode) => void,
  opts: {
    borrow?: boolean;
    select?: (name: string) => boolean;
    /** Histogram bins: compute each output's statistics in the pass (CapturedNode.stats). */
    stats?: number;
    /** Copies are made into this pool's buffers (the caller releases them when done; `borrow`: released here after `onNode`). */
    pool?: BlobPool;
    /** Where statistics are computed (with `stats`, on cpu/wasm); default: here, as each node ends. */
    statsPool?: StatsPool;
    /** `borrow` with a `statsPool`: bytes of copies in flight at most (default 128 MiB); beyond, statistics are computed here. */
    maxInFlightBytes?: number;
    /**
     * Without a `statsPool` (or `stats`), cpu/wasm: each copy goes into an array this memory made
     * ready, when it has one (not with `borrow` or `pool`); statistics stay here, so `onNode` still
     * streams during the run.
     */
    memory?: CaptureMemory;
    /**
     * With `stats` and no `statsPool`, cpu/wasm: float32 outputs' statistics are computed by the
     * ring's worker from a copy in shared memory while the run goes on; each node goes to `onNode`
     * once its statistics are back (polled as each later node ends, in order), so nodes still stream
     * during the run, a few behind. What the ring refuses is computed here.
     */
    statsRing?: PolledStats;
  } = {},
): Promise<{ outputs: Tensor[]; visited: number }> {
  const borrow = opts.borrow ?? false;
  const bins = opts.stats;
  // On wasm, statistics (the caller's or ours) read the heap in place from here on.
  if (backend === 'wasm') bindStatsToWasmHeap(tf.backend(), bins ?? DEFAULT_HISTOGRAM_BINS);
  // Nodes not selected (--nodes) are neither read back nor cloned: their outputs stay where they are.
  const select = opts.select ?? ((): boolean => true);
  const syncRead = SYNC_READ_BACKENDS.has(backend);
  const statsPool = syncRead && bins !== undefined ? opts.statsPool : undefined;
  const memory = syncRead && !statsPool && !borrow && !opts.pool ? opts.memory : undefined;
  const ring = syncRead && bins !== undefined && !statsPool ? opts.statsRing : undefined;
  // Nodes go to onNode in order; with a ring, some wait there for its statistics (in-order.ts).
  const inOrder = new NodesInOrder(ring, onNode, borrow);
  const readable = (t: Tensor | null): t is Tensor => t !== null && t.dtype !== 'string' && t.dtype !== 'complex64';
  const describe = (ts: (Tensor | null)[]): { shape: number[]; dtype: string }[] =>
    ts.map((t) => ({ shape: t ? [...t.shape] : [], dtype: t?.dtype ?? 'float32' }));
  const pending: { name: string; tensors: (Tensor | null)[] }[] = [];
  const deferred: { name: string; outputs: { shape: number[]; dtype: string }[]; taken: Taken[] }[] = [];
  // A `stats` capture keeps no values: without a bound, copies of a large model's every output would
  // pile up until the run ends (the pool's answers are only read then).
  const maxInFlight = opts.maxInFlightBytes ?? STATS_POOL_IN_FLIGHT_BYTES;
  let inFlight = 0;
  // Copies for a pool whose threads read shared memory go there: nothing is transferred, there or back.
  const shared = statsPool?.sharesMemory === true;
  /** A sync-read output for the pool: copied (its statistics then computed there), or read here when it cannot go. */
  const take = (t: Tensor, bins: number, pool: StatsPool): Taken => {
    const copy = borrow && inFlight >= maxInFlight ? null : copyOut(t, backend, opts.pool, pool, shared);
    if (!copy) {
      const r = readSync(t, backend, borrow, bins, opts.pool);
      // A borrowed view is gone after the node: only statistics outlive it (or a copy, without them).
      // Kept values must be the caller's own (wasm reads are copies; cpu hands out its storage).
      if (borrow) return { values: r.stats ? null : toCopy(r.values), stats: r.stats };
      return { values: backend === 'wasm' ? r.values : toCopy(r.values), stats: r.stats };
    }
    if (borrow) inFlight += copy.byteLength;
    const job = pool.stats(copy, bins);
    job.catch(() => undefined); // awaited in order after the run; no "unhandled" while an earlier one is
    return { job };
  };
  let visited = 0;
  const hook = installHook(runner.model, {
    onNodeEnd(v) {
      visited++;
      if (!select(v.name)) {
        const n = { name: v.name, values: v.outputs.map(() => null), outputs: describe(v.outputs) };
        if (statsPool) deferred.push({ ...n, taken: n.values });
        else inOrder.handOn(n, []);
      } else if (statsPool) {
        deferred.push({ name: v.name, outputs: describe(v.outputs), taken: v.outputs.map((t) => (readable(t) ? take(t, bins!, statsPool) : null)) });
      } else if (syncRead) {
        const read = v.outputs.map((t) => (readable(t) ? readSync(t, backend, borrow, bins, opts.pool, memory, ring) : null));
        inOrder.handOn({
          name: v.name,
          values: read.map((r) => r?.values ?? null),
          outputs: describe(v.outputs),
          ...(bins !== undefined ? { stats: read.map((r) => r?.stats ?? null) } : {}),
          ...(memory && read.every((r) => !r || r.copied) ? { copies: true } : {}),
        }, read.map((r) => r?.ticket ?? null));
      } else {
        pending.push({ name: v.name, tensors: v.outputs.map((t) => (readable(t) ? tf.keep(t.clone()) : null)) });
      }
    },
  });
  let outputs: Tensor[];
  try {
    outputs = await runner.run();
  } finally {
    hook.uninstall();
  }
  memory?.captureEnded();
  try {
    await inOrder.drain();
    for (const d of deferred) {
      const read = await Promise.all(d.taken.map(async (x) => (x && 'job' in x ? x.job : x))).catch((e: unknown) => {
        throw new Error(`capture: statistics of ${d.name}'s output failed: ${(e as Error).message}`);
      });
      const values = read.map((r) => (r ? ('data' in r ? r.data : r.values) : null));
      // onNode's own errors (the trace file cannot be written…) go out as they are.
      onNode({ name: d.name, values, outputs: d.outputs, stats: read.map((r) => r?.stats ?? null), copies: true });
      if (borrow && opts.pool) opts.pool.release(...values.filter(isBlobData));
    }
    // Every statistic of this capture is back: the pool may now make memory ready for the next one.
    statsPool?.captureEnded?.();
  } catch (e) {
    tf.dispose(outputs);
    throw e;
  }
  try {
    for (const p of pending) {
      const values = await Promise.all(p.tensors.map((t) => (t ? (t.data() as Promise<ArrayLike<number>>) : Promise.resolve(null))));
      onNode({ name: p.name, values, outputs: describe(p.tensors) });
    }
  } finally {
    for (const p of pending) tf.dispose(p.tensors.filter((t): t is Tensor => t !== null));
  }
  return { outputs, visited };
}

/**
 * A float32/int32 output's values copied out (wasm: from the heap; cpu: from the backend's own array),
 * else null: into a BlobPool's buffer, else memory the StatsPool made ready (its readyBlob), else a new
 * array (`shared`: in shared memory, for a pool whose threads read it there).
 */
function copyOut(t: Tensor, backend: string, pool: BlobPool | undefined, statsPool: StatsPool, shared: boolean): BlobData | null {
  let values: ArrayLike<number>;
  if (backend === 'wasm') {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') return null;
    values = (tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(t);
  } else {
    values = t.dataSync() as ArrayLike<number>;
  }
  if (!blobShaped(values, t.dtype)) return null;
  if (pool) return pool.copyOf(values, shared);
  const kind = values instanceof Int32Array ? 'int32' : 'float32';
  const out = statsPool.readyBlob?.(kind, values.length) ?? (shared ? newBlob(kind, values.length, true) : null);
  if (!out) return values.slice();
  out.set(values);
  return out;
}

/**
 * The memory a capture pass with these options copies into, its StatsPool's or its `memory`, and the
 * byte lengths of those copies (every float32/int32 output of the selected nodes, from the timing
 * pass's shapes): what that memory is told to `expect`. Null when it makes none there (no pool or
 * memory, a GPU backend, copies into a BlobPool's buffers, a `borrow` capture without a pool).
 */
export function captureCopies(backend: string, opts: Parameters<typeof capturePass>[3], nodes: readonly NodeSkeleton[]): { memory: Partial<CaptureMemory>; lengths: number[] } | null {
  if (!opts || opts.pool || !SYNC_READ_BACKENDS.has(backend)) return null;
  const memory: Partial<CaptureMemory> | undefined = opts.statsPool && opts.stats !== undefined ? opts.statsPool : opts.borrow ? undefined : opts.memory;
  if (!memory) return null;
  const lengths: number[] = [];
  for (const n of nodes) {
    if (opts.select && !opts.select(n.name)) continue;
    for (const o of n.outputs) if (o.dtype === 'float32' || o.dtype === 'int32') lengths.push(4 * o.shape.reduce((a, b) => a * b, 1));
  }
  return { memory, lengths };
}

function isBlobData(v: ArrayLike<number> | null): v is BlobData {
  return v instanceof Float32Array || v instanceof Int32Array;
}
