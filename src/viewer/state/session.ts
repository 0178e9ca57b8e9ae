/**
 * The session: every run on the page (reference + edges), fed by any TraceTransport. Events are folded
 * into RunStates; each edge node is compared with the reference as it arrives; each finished edge
 * gets the full comparison (compareTraces).
 */
import { compareTraces, judgeMetrics, resolveTolerance, tensorMetrics, type CompareOptions } from '../../compare/index.ts';
import type { NodeRecord } from '../../trace/types.ts';
import type { StreamMessage, TraceTransport } from '../../transport/types.ts';
import { getState, setState, touch } from './store.ts';
import type { RunState } from './run-state.ts';

// The diagnosis (replays, attribution: src/diagnose) loads with the first comparison (the results
// view, prefetched when the page is idle, imports it too): not on the page's start path.
const diagnosis = (): Promise<typeof import('./diagnosis.ts')> => import('./diagnosis.ts');

export function findRun(stream: string): RunState | undefined {
  return getState().runs.find((r) => r.stream === stream);
}

export function referenceRun(): RunState | undefined {
  return getState().runs.find((r) => r.role === 'reference');
}

let compareOptions: CompareOptions = {};

/** Labels and tolerance for comparisons; recomputes finished comparisons. */
export function setCompareOptions(opts: CompareOptions): void {
  compareOptions = opts;
  recompareAll();
}

export function currentCompareOptions(): CompareOptions {
  return compareOptions;
}

/**
 * Follow a transport: every message whose stream is a run of this session is folded into it.
 * `live: false` (opened files, replayed in one go, reference first): no per-node live comparison —
 * each edge's compareTraces at its run-end comes before any render, and would compute it all again.
 */
export function follow(transport: TraceTransport, opts: { live?: boolean } = {}): () => void {
  const live = opts.live ?? true;
  return transport.subscribe((m) => onMessage(m, live));
}

function onMessage(m: StreamMessage, live: boolean): void {
  const run = findRun(m.stream);
  if (!run) return;
  const node = run.push(m.event);
  if (node && live) {
    // A remote edge run gets its live metrics from the server (remote/open-session.ts).
    if (run.role === 'edge' && !run.remote?.serverMetrics) liveCompare(run, node);
    // The reference may run after the edges: each reference node fills the edges' rows it matches.
    else if (run.role === 'reference') for (const e of getState().runs) if (e.role === 'edge' && !e.remote?.serverMetrics && !e.comparison) liveCompareOne(e, node);
  }
  if (m.event.type === 'run-end' || m.event.type === 'run-error') onRunEnded(run);
  // A run's first node is shown at once (the table's first rows, the progress line's "node 1 of n"),
  // not with the next batched render: a short capture pass could otherwise end before any render.
  if (node && run.nodes.length === 1) setState({});
  else touch();
}

/** Metrics of one arriving edge node against the reference's node of the same name (received so far). */
function liveCompare(run: RunState, node: NodeRecord): void {
  const ref = referenceRun();
  if (!ref) return;
  const refNode = ref.byName.get(node.name);
  if (refNode) compareNodes(run, node, ref, refNode);
}

/** An arriving reference node against the edge node of the same name, if the edge has it already. */
function liveCompareOne(run: RunState, refNode: NodeRecord): void {
  const ref = referenceRun();
  const node = run.byName.get(refNode.name);
  if (!ref || !node) return;
  compareNodes(run, node, ref, refNode);
  run.rev++;
}

/** Same name, same output index: tensorMetrics + judgeMetrics into `run.live`. */
function compareNodes(run: RunState, node: NodeRecord, ref: RunState, refNode: NodeRecord): void {
  node.outputs.forEach((out, k) => {
    const r = refNode.outputs[k];
    const a = out.blob ? run.blobs.get(out.blob.id) : undefined;
    const b = r?.blob ? ref.blobs.get(r.blob.id) : undefined;
    if (!a || !b || a.length !== b.length) return;
    const m = tensorMetrics(a, b);
    const tol = resolveTolerance(compareOptions.tolerance, { name: node.name, op: node.op, outputIndex: k, dtype: out.dtype });
    const j = judgeMetrics(m, tol);
    run.live.set(`${node.name}:${k}`, { nrmse: m.nrmse, maxAbs: m.maxAbs, cosine: m.cosine, verdict: j.verdict, reasons: j.reasons });
  });
}

function compareRun(run: RunState, ref: RunState): void {
  if (!run.trace || !ref.trace || run === ref) return;
  try {
    run.comparison = compareTraces(run.trace, ref.trace, compareOptions);
    void diagnosis().then((d) => d.startReplays(run, ref));
  } catch (e) {
    run.error = `comparison failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  run.rev++;
}

function onRunEnded(run: RunState): void {
  const ref = referenceRun();
  if (!ref) return;
  if (run === ref) {
    for (const r of getState().runs) if (r.role === 'edge') compareRun(r, ref);
  } else compareRun(run, ref);
  if (getState().selectedRun === null && run.role === 'edge' && run.status === 'done') setState({ selectedRun: run.stream });
}

export function recompareAll(): void {
  const ref = referenceRun();
  if (!ref?.trace) return;
  for (const r of getState().runs) {
    if (r.role !== 'edge' || !r.trace) continue;
    if (!r.remote?.serverMetrics) {
      r.live.clear();
      for (const n of r.trace.header.nodes) liveCompare(r, n);
    }
    compareRun(r, ref);
  }
  touch();
}
