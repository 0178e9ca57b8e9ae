/**
 * The session: every run on the page (reference + edges), fed by any TraceTransport. Events are folded
 * into RunStates; each edge node is compared with the reference as it arrives; each finished edge
 * gets the full comparison (compareTraces).
 */
import { compareTraces, judgeMetrics, resolveTolerance, tensorMetrics, type CompareOptions } from '../../compare/index.ts';
import type { NodeRecord, Trace } from '../../trace/types.ts';
import type { StreamMessage, TraceTransport } from '../../transport/types.ts';
import { getState, setState, touch } from './store.ts';
import type { RunState } from './run-state.ts';
import { startReplays } from './diagnosis.ts';

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

/** Follow a transport: every message whose stream is a run of this session is folded into it. */
export function follow(transport: TraceTransport): () => void {
  return transport.subscribe(onMessage);
}

function onMessage(m: StreamMessage): void {
  const run = findRun(m.stream);
  if (!run) return;
  const node = run.push(m.event);
  // A remote edge run gets its live metrics from the server (remote/open-session.ts).
  if (node && run.role === 'edge' && !run.remote?.serverMetrics) liveCompare(run, node);
  if (m.event.type === 'run-end' || m.event.type === 'run-error') onRunEnded(run);
  touch();
}

function refIndex(ref: Trace): Map<string, NodeRecord> {
  const cached = refIndexCache.get(ref);
  if (cached) return cached;
  const map = new Map<string, NodeRecord>();
  for (const n of ref.header.nodes) if (!map.has(n.name)) map.set(n.name, n);
  refIndexCache.set(ref, map);
  return map;
}
const refIndexCache = new WeakMap<Trace, Map<string, NodeRecord>>();

/** Metrics of one arriving edge node against the finished reference (same name, same output index). */
function liveCompare(run: RunState, node: NodeRecord): void {
  const ref = referenceRun()?.trace;
  if (!ref) return;
  const refNode = refIndex(ref).get(node.name);
  if (!refNode) return;
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
    startReplays(run, ref);
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
