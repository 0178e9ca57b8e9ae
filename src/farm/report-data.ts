/**
 * The per-cell detail the farm report's page draws (index.html): every node's error on every input
 * (the per-layer spread), its kernel time on the device and on the reference, and where the cell first
 * diverged. Pure; values are rounded to 4 significant digits so a large matrix stays a small page.
 */
import type { Comparison } from '../compare/index.ts';
import { backendKey, latencyReport } from '../diagnose/latency.ts';
import type { Trace } from '../trace/types.ts';
import type { FarmSummary } from './report.ts';

export interface CellNodeDetail {
  key: string;
  name: string;
  op: string;
  /** nrmse vs the reference per input (cell input order); null where not comparable. */
  values: (number | null)[];
  /** Median kernel ms on the device (median over its inputs' traces) and on the reference; null if untimed. */
  ms: number | null;
  refMs: number | null;
}

export interface CellDetail {
  inputs: string[];
  /** In the edge's execution order (the first input's comparison). */
  nodes: CellNodeDetail[];
  /** Keys of each input's first divergent node (null: none diverged on that input). */
  firstDivergent: (string | null)[];
  /** Per input: the largest final-output nrmse, and whether the top-1 class agrees (null: not class scores). */
  outputNrmse: (number | null)[];
  top1: (boolean | null)[];
  /** The nrmse threshold the comparisons applied (null: none). */
  tolerance: number | null;
}

/** What index.html embeds: the summary, and the detail of every cell that ran. */
export interface FarmReport {
  summary: FarmSummary;
  details: Record<string, CellDetail>;
}

function round4(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

export function cellDetail(inputs: readonly string[], comparisons: readonly Comparison[], edges: readonly Trace[], reference: Trace | null): CellDetail {
  const order: string[] = [];
  const rows = new Map<string, CellNodeDetail>();
  comparisons.forEach((c, k) => {
    for (const n of c.nodes) {
      let row = rows.get(n.key);
      if (!row) {
        row = { key: n.key, name: n.name, op: n.op, values: new Array<number | null>(comparisons.length).fill(null), ms: null, refMs: null };
        rows.set(n.key, row);
        order.push(n.key);
      }
      const v = n.metrics?.nrmse;
      row.values[k] = typeof v === 'number' && Number.isFinite(v) ? round4(v) : null;
    }
  });
  if (edges.length) {
    const traces = reference ? [...edges, reference] : [...edges];
    const lat = latencyReport(traces);
    const edgeKey = backendKey(edges[0]!);
    const refKey = reference ? backendKey(reference) : null;
    // latencyReport keys nodes by name; a name shared by several outputs gets the same time.
    const byName = new Map(lat.nodes.map((n) => [n.node, n]));
    for (const row of rows.values()) {
      const l = byName.get(row.name);
      if (!l) continue;
      const e = l.ms[edgeKey];
      row.ms = typeof e === 'number' ? round4(e) : null;
      const r = refKey === null || refKey === edgeKey ? null : l.ms[refKey];
      row.refMs = typeof r === 'number' ? round4(r) : null;
    }
  }
  return {
    inputs: [...inputs],
    nodes: order.map((k) => rows.get(k)!),
    firstDivergent: comparisons.map((c) => c.firstDivergent?.key ?? null),
    outputNrmse: comparisons.map((c) => {
      const v = c.outputs.tensors.map((t) => t.metrics?.nrmse).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      return v.length ? round4(Math.max(...v)) : null;
    }),
    top1: comparisons.map((c) => c.outputs.top1Equal),
    tolerance: comparisons[0]?.tolerance.global.nrmse ?? null,
  };
}

/**
 * The report as a JSON text safe inside `<script type="application/json">`: `<`, `>` and `&` (and the
 * JavaScript line separators) are escaped, so no value can close the element.
 */
export function reportJson(r: FarmReport): string {
  return JSON.stringify(r).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
