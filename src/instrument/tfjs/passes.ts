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
import type { BlobPool } from './blob-pool.ts';
import { computeStats, DEFAULT_HISTOGRAM_BINS } from '../../trace/stats.ts';
import type { TensorStats } from '../../trace/types.ts';

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
}

const SYNC_READ_BACKENDS = new Set(['cpu', 'wasm']);

/** Values whose statistics computeStats gives the same on them as on the blob made of them (toBlobData). */
function blobShaped(values: ArrayLike<number>, dtype: string): values is Float32Array | Int32Array {
  return dtype === 'int32' ? values instanceof Int32Array : values instanceof Float32Array;
}

/**
 * A node output's values, read synchronously, and (bins given) their statistics. `borrow`: the caller
 * only looks at them inside the callback, so on wasm a view of the heap is enough (no copy); otherwise
 * the values are one copy of the heap (wasm) or the cpu backend's own immutable array.
 */
function readSync(t: Tensor, backend: string, borrow: boolean, bins: number | undefined, pool: BlobPool | undefined): { values: ArrayLike<number>; stats: TensorStats | null } {
  if (backend === 'wasm' && (t.dtype === 'float32' || t.dtype === 'int32')) {
    const view = (tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(t) as Float32Array | Int32Array;
    // Statistics from the heap view (read in place by the kernel), then the one copy a caller keeps.
    const stats = bins !== undefined ? computeStats(view, bins) : null;
    return { values: borrow ? view : pool ? pool.copyOf(view) : view.slice(), stats };
  }
  const values = t.dataSync() as ArrayLike<number>;
  return { values, stats: bins !== undefined && blobShaped(values, t.dtype) ? computeStats(values, bins) : null };
}

/**
 * One run that reads back every node's outputs. On cpu/wasm the read is a synchronous copy done while
 * the node's outputs are alive, so `onNode` streams during the run; on GPU backends a clone (a shared
 * texture, no copy) is kept and read back after the run, so the GPU pipeline is not stalled per node.
 * With `borrow`, values passed to `onNode` are only valid during the call (wasm heap views).
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
    /** wasm: copies are made into this pool's buffers (the caller releases them when done). */
    pool?: BlobPool;
  } = {},
): Promise<{ outputs: Tensor[]; visited: number }> {
  const borrow = opts.borrow ?? false;
  const bins = opts.stats;
  // On wasm, statistics (the caller's or ours) read the heap in place from here on.
  if (backend === 'wasm') bindStatsToWasmHeap(tf.backend(), bins ?? DEFAULT_HISTOGRAM_BINS);
  // Nodes not selected (--nodes) are neither read back nor cloned: their outputs stay where they are.
  const select = opts.select ?? ((): boolean => true);
  const syncRead = SYNC_READ_BACKENDS.has(backend);
  const readable = (t: Tensor | null): t is Tensor => t !== null && t.dtype !== 'string' && t.dtype !== 'complex64';
  const describe = (ts: (Tensor | null)[]): { shape: number[]; dtype: string }[] =>
    ts.map((t) => ({ shape: t ? [...t.shape] : [], dtype: t?.dtype ?? 'float32' }));
  const pending: { name: string; tensors: (Tensor | null)[] }[] = [];
  let visited = 0;
  const hook = installHook(runner.model, {
    onNodeEnd(v) {
      visited++;
      if (!select(v.name)) {
        onNode({ name: v.name, values: v.outputs.map(() => null), outputs: describe(v.outputs) });
      } else if (syncRead) {
        const read = v.outputs.map((t) => (readable(t) ? readSync(t, backend, borrow, bins, opts.pool) : null));
        onNode({
          name: v.name,
          values: read.map((r) => r?.values ?? null),
          outputs: describe(v.outputs),
          ...(bins !== undefined ? { stats: read.map((r) => r?.stats ?? null) } : {}),
        });
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
