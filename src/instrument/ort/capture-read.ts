/**
 * Reading one capture run: each node's exposed outputs taken, summarised (on a StatsPool) and recorded
 * in node order (main-graph values by their own names, body values under the names
 * expose-subgraphs.ts gave them, when real on this input), and the model's own outputs checked against
 * the unmodified model's and across passes.
 */
import type { TensorRecord, TensorStats } from '../../trace/types.ts';
import type { StatsPool, StatsResult } from '../../trace/stats-pool.ts';
import type { OnnxGraphInfo, OnnxNode } from '../../onnx/model.ts';
import type { SubgraphExposure } from '../../onnx/expose-subgraphs.ts';
import { isBodyNode } from '../../onnx/subgraphs.ts';
import type { OrtTensor } from './ort-api.ts';
import { onnxElementBytes, valueCost, type ValueSize } from './capture-plan.ts';
import { bodyOutputs } from './subgraph-capture.ts';
import { checksum, elementTypeOf, maxAbsDiff, tensorValues, type TensorValues } from './tensors.ts';

export interface PassReadContext {
  info: OnnxGraphInfo;
  graphOutputs: ReadonlySet<string>;
  /** Value name → its measured size (updated). */
  measured: Map<string, ValueSize>;
  /** Node name → its outputs' records (updated). */
  captured: Map<string, (TensorRecord | undefined)[]>;
  /** Body node name → its note (updated). */
  notes: Map<string, string>;
  /** Histogram bins of the statistics. */
  bins: number;
  /** Where statistics are computed (default: by `record`, on this thread, as each node is recorded). */
  pool?: StatsPool;
  /** Records one output with its statistics (computed here when `stats` is undefined), and emits its blob when the capture keeps tensors. */
  record: (node: string, k: number, v: TensorValues, stats: TensorStats | undefined, forceBlob: boolean) => TensorRecord;
  /** Called once a node's outputs are recorded (its record is then final). */
  onRead?: (node: OnnxNode) => void;
}

/** Reading a run's values failed (not the run itself): the capture stops with this error. */
export class CaptureReadError extends Error {
  override name = 'CaptureReadError';
}

/** One exposed output taken from the run, its statistics on their way. */
interface Taken {
  values: TensorValues;
  stats?: Promise<StatsResult>;
}

/**
 * Record the outputs of `nodes` from one run's `outs`, disposing each exposed tensor once read.
 * Returns what the exposed outputs cost (capture-plan.ts's measure) and the largest one as float32.
 *
 * Every exposed value is taken first, without a copy where the runtime handed it over in an array of
 * its own, and, with a pool, its statistics started (on the pool's threads, in parallel); then the nodes
 * are recorded in order as their statistics come back (or are computed, without a pool), so node
 * records still stream one by one while the rest are being computed. The model's own outputs are copied (the run's check and the trace's outputs read them).
 */
export async function readPassNodes(nodes: readonly OnnxNode[], outs: Record<string, OrtTensor | undefined>, bodies: SubgraphExposure | null, ctx: PassReadContext): Promise<{ bytes: number; largest: number }> {
  let bytes = 0;
  let largest = 0;
  // Without a pool each output's statistics are computed as its node is recorded (record() does it), so
  // node records go out one by one as before rather than after every statistic of the run.
  const pool = ctx.pool;
  const taken = new Set<ArrayBufferLike>();
  const pending = nodes.map((n) => {
    let keys: (string | undefined)[] = n.outputs;
    if (isBodyNode(n)) {
      const read = bodies ? bodyOutputs(n, outs, bodies) : { tensors: [], note: 'not captured: the runtime could not load or run the model rewritten to expose subgraph values (see the warnings)' };
      keys = read.tensors.length > 0 ? n.outputs.map((_, k) => bodies!.values.get(n.name)?.[k]?.output) : [];
      if (read.note) ctx.notes.set(n.name, read.note);
    }
    return n.outputs.map((v, k): Taken | undefined => {
      const key = keys[k];
      const t = key === undefined ? undefined : outs[key];
      if (!t || key === undefined) return undefined;
      const own = !ctx.graphOutputs.has(v);
      // An array is taken (and may be moved to another thread) once: a buffer two outputs shared would be copied.
      const buffer = ArrayBuffer.isView(t.data) ? t.data.buffer : undefined;
      const values = tensorValues(t, own && !(buffer && taken.has(buffer)));
      if (buffer && values.data?.buffer === buffer) taken.add(buffer);
      const elements = values.data?.length ?? 0;
      const m: ValueSize = { elements, elementBytes: onnxElementBytes(ctx.info.valueTypes.get(v)?.elemType ?? elementTypeOf(t.type)), from: 'measured' };
      ctx.measured.set(v, m);
      if (own) {
        bytes += valueCost(m);
        largest = Math.max(largest, elements * 4);
        // Dropped as soon as its values are taken: a pass holds the runtime's outputs, not two copies of them.
        try {
          t.dispose();
        } catch {
          // onnxruntime-node's CPU tensors have nothing to free.
        }
        outs[key] = undefined;
      }
      return { values };
    });
  });
  // Statistics start once every value is taken (a job moves its array to another thread: a value copied
  // from a buffer it shares must be copied first). Each promise gets a handler at once, so one that fails
  // while an earlier node is awaited is not "unhandled".
  if (pool) {
    for (const outs of pending) {
      for (const x of outs) {
        if (!x?.values.data) continue;
        x.stats = pool.stats(x.values.data, ctx.bins);
        x.stats.catch(() => undefined);
      }
    }
  }
  for (const [i, n] of nodes.entries()) {
    const recs: (TensorRecord | undefined)[] = [];
    for (const [k, x] of pending[i]!.entries()) {
      if (!x) {
        recs.push(undefined);
        continue;
      }
      let got: StatsResult | undefined;
      try {
        got = x.stats ? await x.stats : undefined;
      } catch (e) {
        throw new CaptureReadError(`statistics of ${n.name} output ${k}: ${(e as Error).message}`);
      }
      recs.push(ctx.record(n.name, k, got ? { ...x.values, data: got.data } : x.values, got?.stats, false));
    }
    pending[i] = [];
    // A body node with nothing read (branch not taken, not exposed) keeps no entry: its note says why.
    if (recs.some((r) => r !== undefined) || !isBodyNode(n)) ctx.captured.set(n.name, recs);
    ctx.onRead?.(n);
  }
  return { bytes, largest };
}

/**
 * The model's own outputs of each capture run: against the unmodified model's (first pass), then
 * against the first pass's (later passes: the runtime must give the same values for stitching to hold).
 */
export class FinalOutputsCheck {
  private readonly first = new Map<string, number>();
  private readonly nondeterministic = new Set<string>();
  private readonly differing: string[] = [];

  constructor(private readonly info: OnnxGraphInfo) {}

  check(pass: number, outs: Readonly<Record<string, OrtTensor | undefined>>, plain: ReadonlyMap<string, TensorValues>): void {
    for (const o of this.info.outputs) {
      const t = outs[o.name];
      if (!t) continue;
      const v = tensorValues(t);
      if (!v.data) continue;
      const sum = checksum(v.data);
      if (pass > 1) {
        if (this.first.get(o.name) !== sum) this.nondeterministic.add(o.name);
        continue;
      }
      this.first.set(o.name, sum);
      const p = plain.get(o.name);
      if (!p?.data) continue;
      if (p.data.length !== v.data.length) this.differing.push(`${o.name} (shape [${v.shape}] vs [${p.shape}])`);
      else {
        const d = maxAbsDiff(v.data, p.data);
        if (!(d === 0)) this.differing.push(`${o.name} (max |Δ| ${d.toPrecision(3)})`);
      }
    }
  }

  warnings(): string[] {
    const out: string[] = [];
    if (this.differing.length > 0) {
      out.push(
        `the rewritten model (node outputs exposed, graph optimisations off) gives different final outputs than the unmodified model: ${this.differing.join(', ')}; onnxruntime optimises the unmodified graph (fusions, layouts), node values come from the rewritten one, the trace's outputs from the unmodified one`,
      );
    }
    if (this.nondeterministic.size > 0) {
      out.push(`the capture passes gave different final outputs (${[...this.nondeterministic].join(', ')}): the runtime is not deterministic on this input, so node values from different passes may not belong to one run`);
    }
    return out;
  }
}
