/**
 * Node rows: what the table, the charts and the inspector show per node output of a run, from the
 * full comparison when it exists, else from the nodes received so far with their live metrics.
 *
 * While a run streams, rows are kept up to date incrementally: each call folds in only what arrived
 * since the last one (new nodes, new kernels, changed live metrics, new reference nodes), so a
 * render during streaming costs per new node, not per node of the model.
 */
import type { Clock, KernelRecord, NodeRecord, TensorStats } from '../../trace/types.ts';
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
  /** This output's statistics in this run (`stats` and `tensors` capture modes). */
  stats: TensorStats | null;
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

/** Rows from a finished comparison: recomputed only when the run or the reference changes. */
const compared = new WeakMap<RunState, { rev: number; refRev: number; rows: NodeRow[] }>();

export function nodeRows(run: RunState, ref: RunState | undefined): NodeRow[] {
  // The reference's own rows do not depend on a reference: one cache whoever asks.
  if (run.role === 'reference' || run === ref) ref = undefined;
  if (run.comparison) {
    const refRev = ref?.rev ?? -1;
    const hit = compared.get(run);
    if (hit && hit.rev === run.rev && hit.refRev === refRev) return hit.rows;
    const rows = comparedRows(run);
    compared.set(run, { rev: run.rev, refRev, rows });
    return rows;
  }
  let live = streaming.get(run);
  if (!live || live.ref !== ref || live.epoch !== run.live.epoch) {
    live = new LiveRows(run, ref);
    streaming.set(run, live);
  }
  return live.update();
}

function comparedRows(run: RunState): NodeRow[] {
  const c = run.comparison!;
  const kernels = new Map(run.kernels.map((k) => [k.index, k]));
  const byName = new Map(run.nodes.map((n) => [n.name, n]));
  const rows: NodeRow[] = [];
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
      stats: node?.outputs[n.outputIndex]?.stats ?? null,
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
  return rows;
}

function timing(kernels: Map<number, KernelRecord>, ids: readonly number[]): { ms: number | null; clock: Clock | null } {
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

const streaming = new WeakMap<RunState, LiveRows>();

/** Execution order, then output index. */
function before(a: NodeRow, b: NodeRow): boolean {
  return a.index < b.index || (a.index === b.index && a.outputIndex < b.outputIndex);
}

/**
 * The rows of one streaming run against one reference. Everything the run and the reference receive
 * is append-only (nodes, kernels, live-metric changes), so cursors say what is new; row objects are
 * updated in place and a new array is handed out only when something changed (views memoise on it).
 */
export class LiveRows {
  private nodesSeen = 0;
  private kernelsSeen = 0;
  private liveSeen = 0;
  private refNodesSeen = 0;
  private refDone = false;
  private readonly kernels = new Map<number, KernelRecord>();
  /** Rows sorted by (index, outputIndex). */
  private readonly rows: NodeRow[] = [];
  private readonly byKey = new Map<string, NodeRow[]>();
  private readonly nodesByName = new Map<string, NodeRecord[]>();
  /** Names of nodes with a row still waiting for the reference's node ('pending'). */
  private readonly pending = new Set<string>();
  private first: NodeRow | null = null;
  private out: NodeRow[] = [];
  private rev = -1;
  private refRev = -1;
  readonly epoch: number;

  constructor(
    private readonly run: RunState,
    readonly ref: RunState | undefined,
  ) {
    this.epoch = run.live.epoch;
  }

  update(): NodeRow[] {
    const run = this.run;
    const ref = this.ref;
    if (run.rev === this.rev && (ref?.rev ?? -1) === this.refRev) return this.out;
    this.rev = run.rev;
    this.refRev = ref?.rev ?? -1;
    let changed = false;
    // Kernels first: a node's time is the sum of its kernels' (TF.js sends them before the nodes).
    for (; this.kernelsSeen < run.kernels.length; this.kernelsSeen++) {
      const k = run.kernels[this.kernelsSeen]!;
      this.kernels.set(k.index, k);
      if (k.node !== null && this.nodesByName.has(k.node)) changed = this.retime(k.node) || changed;
    }
    for (; this.nodesSeen < run.nodes.length; this.nodesSeen++) {
      this.addNode(run.nodes[this.nodesSeen]!);
      changed = true;
    }
    const changes = run.live.changes;
    for (; this.liveSeen < changes.length; this.liveSeen++) changed = this.remeasure(changes[this.liveSeen]!) || changed;
    if (ref && run.role === 'edge') {
      // A reference node (or the reference's end) turns rows without metrics from 'pending' into 'no-data'.
      for (; this.refNodesSeen < ref.nodes.length; this.refNodesSeen++) {
        const name = ref.nodes[this.refNodesSeen]!.name;
        if (this.pending.has(name)) changed = this.reverdict(name) || changed;
      }
      if (ref.trace && !this.refDone) {
        this.refDone = true;
        for (const name of [...this.pending]) changed = this.reverdict(name) || changed;
      }
    }
    if (changed) this.out = this.rows.slice();
    return this.out;
  }

  private addNode(node: NodeRecord): void {
    const list = this.nodesByName.get(node.name);
    if (list) list.push(node);
    else this.nodesByName.set(node.name, [node]);
    const t = timing(this.kernels, node.kernels);
    node.outputs.forEach((out, k) => {
      const row: NodeRow = {
        key: `${node.name}:${k}`,
        name: node.name,
        op: node.op,
        outputIndex: k,
        index: node.index,
        shape: out.shape,
        stats: out.stats ?? null,
        nrmse: null,
        maxAbs: null,
        cosine: null,
        verdict: '',
        reasons: [],
        ms: k === 0 ? t.ms : null,
        clock: t.clock,
        kernels: node.kernels.length,
        firstDivergent: false,
      };
      this.insert(row);
      this.measure(row);
    });
  }

  /** Sorted insert: nodes arrive in execution order, so this is nearly always an append. */
  private insert(row: NodeRow): void {
    let i = this.rows.length;
    while (i > 0 && before(row, this.rows[i - 1]!)) i--;
    this.rows.splice(i, 0, row);
    const same = this.byKey.get(row.key);
    if (same) same.push(row);
    else this.byKey.set(row.key, [row]);
  }

  /** A kernel of an already-received node arrived: its rows' time again. */
  private retime(name: string): boolean {
    for (const node of this.nodesByName.get(name) ?? []) {
      const t = timing(this.kernels, node.kernels);
      const row = this.byKey.get(`${name}:0`)?.find((r) => r.index === node.index);
      if (row) {
        row.ms = t.ms;
        row.clock = t.clock;
      }
    }
    return true;
  }

  private remeasure(key: string): boolean {
    const rows = this.byKey.get(key);
    if (!rows) return false;
    for (const row of rows) this.measure(row);
    return true;
  }

  private reverdict(name: string): boolean {
    let changed = false;
    for (const node of this.nodesByName.get(name) ?? []) {
      for (let k = 0; k < node.outputs.length; k++) for (const row of this.byKey.get(`${name}:${k}`) ?? []) changed = this.measure(row) || changed;
    }
    return changed;
  }

  /** Metrics, verdict and first-divergent flag of one row from the live metrics as they are now. */
  private measure(row: NodeRow): boolean {
    const m = this.run.live.get(row.key);
    const ref = this.ref;
    const verdict = m ? m.verdict : this.run.role === 'reference' ? 'reference' : ref?.trace || ref?.byName.has(row.name) ? 'no-data' : 'pending';
    if (verdict === 'pending') this.pending.add(row.name);
    else this.pending.delete(row.name);
    const was = row.verdict;
    row.nrmse = m?.nrmse ?? null;
    row.maxAbs = m?.maxAbs ?? null;
    row.cosine = m?.cosine ?? null;
    row.reasons = m?.reasons ?? [];
    row.verdict = verdict;
    if (verdict === 'diverged' && (this.first === null || before(row, this.first))) {
      if (this.first) this.first.firstDivergent = false;
      row.firstDivergent = true;
      this.first = row;
    } else if (was === 'diverged' && verdict !== 'diverged' && row === this.first) {
      // Rare (a metric replaced by a better one): find the first divergent row again.
      row.firstDivergent = false;
      this.first = this.rows.find((r) => r.verdict === 'diverged') ?? null;
      if (this.first) this.first.firstDivergent = true;
    }
    return true;
  }
}
