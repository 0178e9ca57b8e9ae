/**
 * Own vs inherited error per node. A node's total error (edge vs reference) mixes what it did wrong
 * itself with what its inputs carried in. Replaying the node alone on the reference backend with the
 * edge's own recorded inputs separates them:
 *   own       = edge output vs replay        (the node's kernel, given the same inputs)
 *   inherited = replay vs reference output   (what a correct kernel makes of the edge's inputs)
 * Pure: the replay itself runs elsewhere (src/reference/replay-node.ts in Node).
 */
import type { Comparison, NodeComparison } from '../compare/index.ts';
import { tensorMetrics } from '../compare/index.ts';
import type { BlobData, Trace } from '../trace/types.ts';
import { finiteOrNull, sig } from './fit.ts';
import type { NodeAttribution } from './types.ts';

/** Replayed outputs of one node (index = output index). */
export interface NodeReplay {
  node: string;
  outputs: (BlobData | null)[];
  error?: string;
}

export interface ReplaySelectionOptions {
  /** At most this many nodes (default 24). */
  max?: number;
}

function blobOf(trace: Trace, node: string, k: number): BlobData | null {
  const rec = trace.header.nodes.find((n) => n.name === node);
  const id = rec?.outputs[k]?.blob?.id;
  return id ? (trace.blobs.get(id) ?? null) : null;
}

/** Index node comparisons by node name (first output) for input lookups. */
function totalsByName(c: Comparison): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of c.nodes) {
    const v = n.metrics?.nrmse;
    if (v === undefined) continue;
    m.set(n.name, Math.max(m.get(n.name) ?? 0, v));
  }
  return m;
}

/**
 * Ops whose output is an exact function of their inputs on every backend (data movement, selection,
 * ReLU): a replay of them shows an own error only for a real bug, so they are replayed last.
 */
const EXACT_OPS =
  /^(relu|relu6|re_?lu|leakyrelu|zeropadding[123]d|pad|padv2|mirrorpad|reshape|identity|identityn|dropout|flatten|squeeze|expanddims|concat|concatv2|concatenate|transpose|permute|slice|stridedslice|gather|gatherv2|gathernd|shape|cast|pack|unpack|split|splitv|tile|maxpool|maxpooling[123]d|globalmaxpooling[123]d|cropping[123]d|upsampling2d|resizenearestneighbor)$/i;

/** True for ops whose result is exact given their inputs (see EXACT_OPS). */
export function isExactOp(op: string): boolean {
  return EXACT_OPS.test(op.replace(/^_/, ''));
}

/**
 * Which nodes to replay: nothing when the comparison agrees; otherwise the divergence origins and every
 * node with a NaN/Inf mismatch, then the nodes whose error grows most relative to their inputs'
 * ("jumps"), computing ops before exact ones (ReLU, padding, reshapes), up to `max`. Execution order.
 */
export function selectReplayNodes(c: Comparison, edge: Trace, options: ReplaySelectionOptions = {}): string[] {
  const max = options.max ?? 24;
  if (c.verdict === 'ok' || c.verdict === 'no-data' || max <= 0) return [];
  const withBlobs = new Set(edge.header.nodes.filter((n) => n.outputs.some((o) => o.blob)).map((n) => n.name));
  const totals = totalsByName(c);
  const inputNrmse = Math.max(0, ...c.inputs.tensors.map((t) => t.metrics?.nrmse ?? 0));
  const scored = new Map<string, number>();
  const must: string[] = [];
  for (const n of c.nodes) {
    if (!withBlobs.has(n.name) || n.edgeIndex === null || n.refIndex === null) continue;
    const m = n.metrics;
    if (!m) continue;
    if (m.nanMismatch + m.infMismatch > 0 && !must.includes(n.name)) must.push(n.name);
    const fromInputs = n.inputs.length === 0 ? inputNrmse : Math.max(...n.inputs.map((i) => totals.get(i) ?? inputNrmse));
    const jump = (m.nrmse + 1e-9) / Math.max(fromInputs, 1e-7);
    const score = (isExactOp(n.op) ? 1e-6 : 1) * jump * (n.verdict === 'diverged' ? 1 : 0.5);
    scored.set(n.name, Math.max(scored.get(n.name) ?? 0, score));
  }
  for (const key of c.divergenceOrigins) {
    const name = c.nodes.find((n) => n.key === key)?.name;
    if (name && withBlobs.has(name) && !must.includes(name)) must.push(name);
  }
  const picked = new Set<string>(must.slice(0, max));
  for (const [name] of [...scored.entries()].sort((a, b) => b[1] - a[1])) {
    if (picked.size >= max) break;
    picked.add(name);
  }
  const order = new Map(edge.header.nodes.map((n) => [n.name, n.index]));
  return [...picked].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
}

function refRange(n: NodeComparison): number | null {
  const m = n.metrics;
  if (!m || m.refMin === null || m.refMax === null) return null;
  return m.refMax - m.refMin;
}

/**
 * Per node output: total error from the comparison; own and inherited from the replays (when the node
 * was replayed). Nodes without comparable data are left out. Execution order.
 */
export function attributeErrors(c: Comparison, edge: Trace, ref: Trace, replays: readonly NodeReplay[]): NodeAttribution[] {
  const byNode = new Map(replays.map((r) => [r.node, r]));
  const out: NodeAttribution[] = [];
  for (const n of c.nodes) {
    const m = n.metrics;
    if (!m || n.edgeIndex === null || n.refIndex === null) continue;
    const range = refRange(n);
    const refMaxAbs = m.refMin === null || m.refMax === null ? null : Math.max(Math.abs(m.refMin), Math.abs(m.refMax));
    const a: NodeAttribution = {
      key: n.key,
      node: n.name,
      op: n.op,
      outputIndex: n.outputIndex,
      total: sig(m.nrmse),
      own: null,
      inherited: null,
      ownShare: null,
      rmseOverScale: range && range > 0 ? sig(m.rmse / (range / 255)) : null,
      nonFinite: m.nanMismatch + m.infMismatch,
      ownNonFinite: null,
      refMaxAbs: finiteOrNull(refMaxAbs),
    };
    const r = byNode.get(n.name);
    if (r) {
      const replayed = r.outputs[n.outputIndex] ?? null;
      const e = blobOf(edge, n.name, n.outputIndex);
      const f = blobOf(ref, n.name, n.outputIndex);
      if (r.error) a.replayNote = r.error;
      else if (!replayed || !e || !f) a.replayNote = 'no values to compare';
      else if (replayed.length !== e.length || replayed.length !== f.length) a.replayNote = `replay gave ${replayed.length} values, the traces ${e.length} / ${f.length}`;
      else {
        const own = tensorMetrics(e, replayed);
        const inh = tensorMetrics(replayed, f);
        a.own = sig(own.nrmse);
        a.inherited = sig(inh.nrmse);
        a.ownShare = own.nrmse + inh.nrmse > 0 ? sig(own.nrmse / (own.nrmse + inh.nrmse), 3) : 0;
        a.ownNonFinite = own.nanMismatch + own.infMismatch;
        if (range && range > 0) a.rmseOverScale = sig(own.rmse / (range / 255));
      }
    }
    out.push(a);
  }
  return out;
}
