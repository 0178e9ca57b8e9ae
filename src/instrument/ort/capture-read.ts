/**
 * Reading one capture run: each node's exposed outputs recorded and dropped one at a time (main-graph
 * values by their own names, body values under the names expose-subgraphs.ts gave them, when real on
 * this input), and the model's own outputs checked against the unmodified model's and across passes.
 */
import type { TensorRecord } from '../../trace/types.ts';
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
  /** Records one output (stats, and its blob when the capture keeps tensors). */
  record: (node: string, k: number, v: TensorValues, withValues: boolean, forceBlob: boolean) => TensorRecord;
  /** Called once a node's outputs are recorded (its record is then final). */
  onRead?: (node: OnnxNode) => void;
}

/**
 * Record the outputs of `nodes` from one run's `outs`, disposing each exposed tensor once read.
 * Returns what the exposed outputs cost (capture-plan.ts's measure) and the largest one as float32.
 */
export function readPassNodes(nodes: readonly OnnxNode[], outs: Record<string, OrtTensor | undefined>, bodies: SubgraphExposure | null, ctx: PassReadContext): { bytes: number; largest: number } {
  let bytes = 0;
  let largest = 0;
  for (const n of nodes) {
    let keys: (string | undefined)[] = n.outputs;
    if (isBodyNode(n)) {
      const read = bodies ? bodyOutputs(n, outs, bodies) : { tensors: [], note: 'not captured: the runtime could not load or run the model rewritten to expose subgraph values (see the warnings)' };
      keys = read.tensors.length > 0 ? n.outputs.map((_, k) => bodies!.values.get(n.name)?.[k]?.output) : [];
      if (read.note) ctx.notes.set(n.name, read.note);
    }
    const recs = n.outputs.map((v, k): TensorRecord | undefined => {
      const key = keys[k];
      const t = key === undefined ? undefined : outs[key];
      if (!t || key === undefined) return undefined;
      const values = tensorValues(t);
      const elements = values.data?.length ?? 0;
      const m: ValueSize = { elements, elementBytes: onnxElementBytes(ctx.info.valueTypes.get(v)?.elemType ?? elementTypeOf(t.type)), from: 'measured' };
      ctx.measured.set(v, m);
      if (!ctx.graphOutputs.has(v)) {
        bytes += valueCost(m);
        largest = Math.max(largest, elements * 4);
        // Dropped as soon as it is recorded: a pass holds the runtime's outputs, not two copies of them.
        try {
          t.dispose();
        } catch {
          // onnxruntime-node's CPU tensors have nothing to free.
        }
        outs[key] = undefined;
      }
      return ctx.record(n.name, k, values, true, false);
    });
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
