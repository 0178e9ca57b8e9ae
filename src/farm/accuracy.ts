/**
 * Accuracy of one cell (model × device × backend) over its inputs, from one comparison per input:
 * top-1 agreement with the reference, mean / max output error, and the per-layer error spread
 * (median and p95 nrmse of each node across inputs). Pure.
 */
import type { Comparison } from '../compare/index.ts';

export interface NodeSpread {
  key: string;
  name: string;
  op: string;
  median: number;
  p95: number;
}

export interface CellAccuracy {
  inputs: number;
  /** Share of inputs whose top-1 class agrees (null: no classifier output). */
  top1Agreement: number | null;
  /** Largest final-output nrmse of each input, averaged / maxed over inputs (null: nothing comparable). */
  outputNrmse: { mean: number | null; max: number | null };
  /** Inputs whose final outputs break the tolerance (or whose comparison is not usable). */
  divergentInputs: number;
  /** First divergent node of the first divergent input (the comparison's, before diagnosis). */
  firstDivergentNode: string | null;
  /** Index (in the cell's input order) of the first input whose outputs diverged. */
  firstDivergentInput: number | null;
  /** Per node, over inputs; nodes with no nrmse (stats capture, missing) are left out. */
  nodes: NodeSpread[];
}

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The input broke the tolerance: outputs diverged, or the comparison could not judge them. */
export function inputDiverged(c: Comparison): boolean {
  return c.verdict === 'input-mismatch' || c.outputs.verdict !== 'ok';
}

function outputNrmseOf(c: Comparison): number | null {
  let worst: number | null = null;
  for (const t of c.outputs.tensors) {
    const v = t.metrics?.nrmse;
    if (typeof v === 'number' && Number.isFinite(v)) worst = worst === null ? v : Math.max(worst, v);
  }
  return worst;
}

export function cellAccuracy(comparisons: readonly Comparison[]): CellAccuracy {
  let top1Known = 0;
  let top1Agree = 0;
  const outErr: number[] = [];
  let divergent = 0;
  let firstNode: string | null = null;
  let firstInput: number | null = null;
  const perNode = new Map<string, { name: string; op: string; values: number[] }>();
  comparisons.forEach((c, k) => {
    if (c.outputs.top1Equal !== null) {
      top1Known++;
      if (c.outputs.top1Equal) top1Agree++;
    }
    const e = outputNrmseOf(c);
    if (e !== null) outErr.push(e);
    if (inputDiverged(c)) {
      divergent++;
      if (firstInput === null) {
        firstInput = k;
        firstNode = c.firstDivergent?.name ?? null;
      }
    }
    for (const n of c.nodes) {
      const v = n.metrics?.nrmse;
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      let slot = perNode.get(n.key);
      if (!slot) perNode.set(n.key, (slot = { name: n.name, op: n.op, values: [] }));
      slot.values.push(v);
    }
  });
  const nodes: NodeSpread[] = [...perNode.entries()].map(([key, s]) => {
    const sorted = [...s.values].sort((a, b) => a - b);
    return { key, name: s.name, op: s.op, median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
  });
  return {
    inputs: comparisons.length,
    top1Agreement: top1Known ? top1Agree / top1Known : null,
    outputNrmse: { mean: outErr.length ? outErr.reduce((a, b) => a + b, 0) / outErr.length : null, max: outErr.length ? Math.max(...outErr) : null },
    divergentInputs: divergent,
    firstDivergentNode: firstNode,
    firstDivergentInput: firstInput,
    nodes,
  };
}

/** The cell breaks its tolerance: an input's outputs diverged, or top-1 agreement is below the minimum. */
export function breaksTolerance(a: CellAccuracy, minTop1: number): boolean {
  return a.divergentInputs > 0 || (a.top1Agreement !== null && a.top1Agreement < minTop1);
}
