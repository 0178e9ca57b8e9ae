/**
 * The node table's rows for a run that is still streaming: its own rows, and a waiting row for every
 * node output another run (the reference) has reached and this run has not yet. Rows appear from
 * whichever run reaches a node first, in either order of runs (issue 12 item 1); a waiting row shows
 * the other run's shape, statistics and time, with empty comparison columns until this run's node
 * arrives and replaces it.
 */
import type { NodeRow } from './node-rows.ts';

export interface TableRow extends NodeRow {
  /** Set on a waiting row: the stream whose node it shows (this run has not reached the node yet). */
  from?: string;
  /** A waiting row's time: the other run's (its `ms` stays null, so sorting by time sorts this run's). */
  otherMs?: number | null;
}

export interface TableRows {
  rows: TableRow[];
  /** Rows of the run itself. */
  own: number;
  /** Rows from the other run, waiting for this one. */
  waiting: number;
}

/** Execution order, then output index. */
function before(a: NodeRow, b: NodeRow): boolean {
  return a.index < b.index || (a.index === b.index && a.outputIndex < b.outputIndex);
}

/** One waiting row per row of the other run, reused while that run streams (its row objects are kept). */
const waitingOf = new WeakMap<NodeRow, TableRow>();
const merged = new WeakMap<readonly NodeRow[], { other: readonly NodeRow[]; from: string; result: TableRows }>();

/**
 * `own` and `other`, both in execution order (as nodeRows gives them while streaming), merged in one
 * pass: `other`'s rows whose key `own` has not are added as waiting rows. The result is cached on the
 * two arrays (nodeRows hands out a new array only when something changed).
 */
export function withWaitingRows(own: readonly NodeRow[], other: readonly NodeRow[], from: string): TableRows {
  const hit = merged.get(own);
  if (hit && hit.other === other && hit.from === from) return hit.result;
  const have = new Set<string>();
  for (const r of own) have.add(r.key);
  const rows: TableRow[] = [];
  let i = 0;
  let waiting = 0;
  for (const o of other) {
    if (have.has(o.key)) continue;
    while (i < own.length && !before(o, own[i]!)) rows.push(own[i++]!);
    rows.push(waitingRow(o, from));
    waiting++;
  }
  while (i < own.length) rows.push(own[i++]!);
  const result = { rows, own: own.length, waiting };
  merged.set(own, { other, from, result });
  return result;
}

function waitingRow(o: NodeRow, from: string): TableRow {
  let w = waitingOf.get(o);
  if (!w || w.from !== from) {
    w = {
      ...o,
      nrmse: null,
      maxAbs: null,
      cosine: null,
      verdict: 'waiting',
      reasons: [],
      ms: null,
      firstDivergent: false,
      from,
      otherMs: o.ms,
    };
    waitingOf.set(o, w);
  }
  // The other run's row is updated in place while it streams (a kernel's time arriving late).
  w.otherMs = o.ms;
  w.stats = o.stats;
  w.clock = o.clock;
  return w;
}
