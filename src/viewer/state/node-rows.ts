/**
 * Node rows: what the table, the charts and the inspector show per node output of a run, from the
 * full comparison when it exists, else from the nodes received so far with their live metrics.
 */
import type { Clock, KernelRecord } from '../../trace/types.ts';
import type { RunState } from './run-state.ts';

export interface NodeRow {
  /** `name:outputIndex` (the comparison's key for unique names). */
  key: string;
  name: string;
  op: string;
  outputIndex: number;
  /** Execution index in this run (x of the error chart). */
  index: number;
  shape: number[];
  nrmse: number | null;
  maxAbs: number | null;
  cosine: number | null;
  verdict: string;
  reasons: string[];
  /** Sum of this node's kernel times; null when no kernel had a time. */
  ms: number | null;
  clock: Clock | null;
  kernels: number;
  firstDivergent: boolean;
}

const cache = new WeakMap<RunState, { rev: number; refRev: number; rows: NodeRow[] }>();

function kernelTimes(run: RunState): Map<number, KernelRecord> {
  return new Map(run.kernels.map((k) => [k.index, k]));
}

function timing(kernels: Map<number, KernelRecord>, ids: number[]): { ms: number | null; clock: Clock | null } {
  let ms: number | null = null;
  let clock: Clock | null = null;
  for (const i of ids) {
    const k = kernels.get(i);
    if (!k) continue;
    clock ??= k.clock;
    if (k.ms !== null) ms = (ms ?? 0) + k.ms;
  }
  return { ms, clock };
}

export function nodeRows(run: RunState, ref: RunState | undefined): NodeRow[] {
  const refRev = ref?.rev ?? -1;
  const hit = cache.get(run);
  if (hit && hit.rev === run.rev && hit.refRev === refRev) return hit.rows;
  const kernels = kernelTimes(run);
  const byName = new Map(run.nodes.map((n) => [n.name, n]));
  const rows: NodeRow[] = [];
  const c = run.comparison;
  if (c) {
    const fd = c.firstDivergent?.position ?? -1;
    for (const n of c.nodes) {
      if (n.edgeIndex === null) continue; // only in the reference
      const node = byName.get(n.name);
      const t = timing(kernels, node?.kernels ?? []);
      rows.push({
        key: n.key,
        name: n.name,
        op: n.op,
        outputIndex: n.outputIndex,
        index: n.edgeIndex,
        shape: n.edgeShape ?? [],
        nrmse: n.metrics?.nrmse ?? n.stats?.nrmseLowerBound ?? null,
        maxAbs: n.metrics?.maxAbs ?? n.stats?.maxAbsLowerBound ?? null,
        cosine: n.metrics?.cosine ?? null,
        verdict: n.verdict,
        reasons: n.reasons,
        ms: n.outputIndex === 0 ? t.ms : null,
        clock: t.clock,
        kernels: node?.kernels.length ?? 0,
        firstDivergent: n.position === fd,
      });
    }
  } else {
    const sorted = [...run.nodes].sort((a, b) => a.index - b.index);
    let seenDivergent = false;
    for (const node of sorted) {
      const t = timing(kernels, node.kernels);
      node.outputs.forEach((out, k) => {
        const m = run.live.get(`${node.name}:${k}`);
        const first = !seenDivergent && m?.verdict === 'diverged';
        if (first) seenDivergent = true;
        rows.push({
          key: `${node.name}:${k}`,
          name: node.name,
          op: node.op,
          outputIndex: k,
          index: node.index,
          shape: out.shape,
          nrmse: m?.nrmse ?? null,
          maxAbs: m?.maxAbs ?? null,
          cosine: m?.cosine ?? null,
          verdict: m ? m.verdict : run.role === 'reference' ? 'reference' : ref?.trace || ref?.byName.has(node.name) ? 'no-data' : 'pending',
          reasons: m?.reasons ?? [],
          ms: k === 0 ? t.ms : null,
          clock: t.clock,
          kernels: node.kernels.length,
          firstDivergent: first,
        });
      });
    }
  }
  cache.set(run, { rev: run.rev, refRev, rows });
  return rows;
}
