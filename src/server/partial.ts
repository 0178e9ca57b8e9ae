/**
 * A Trace from the events a session stored, complete or not.
 *
 * A finished run folds with TraceBuilder as it is. A run that did not finish (socket gone, server
 * died, run-error) still has useful nodes, and the viewer and `compare` read Traces, so the store
 * builds a *partial* trace: a valid Trace holding only what arrived and is consistent, with warnings
 * that say what is missing. It goes through TraceBuilder too (same validation as a file), fed a
 * repaired stream:
 * - `outputs` is `[]` when run-end never arrived (the format allows an empty outputs list; inventing
 *   outputs from the last node would be a guess);
 * - kernels are kept up to the first gap in their indices (the format requires index = position);
 * - a node keeps only kernel indices that exist and name it; a blob reference whose blob never arrived
 *   (or arrived with another type or length) is dropped, keeping the node's shape and statistics;
 * - an input tensor or model output whose blob never arrived is dropped (the format requires their
 *   values; keeping the record without them would make the trace unreadable);
 * - duplicate nodes (same index or name) keep the first.
 * Without a run-start there is nothing to describe the run and no trace can be built.
 */
import { TraceFormatError } from '../trace/errors.ts';
import { foldEvents, TraceBuilder } from '../trace/events.ts';
import type {
  BlobData,
  BlobRef,
  KernelRecord,
  NamedTensor,
  NodeRecord,
  RunEndEvent,
  RunErrorEvent,
  RunStartEvent,
  TensorRecord,
  TimingSummary,
  Trace,
  TraceEvent,
} from '../trace/types.ts';

export interface FoldedSession {
  trace: Trace;
  /** True when the events fold into a trace as they are (run-end arrived, nothing missing). */
  complete: boolean;
  /** The producer's run-error message, if the run failed. */
  runError?: string | undefined;
  /** Why a stream that has its run-end still does not fold (TraceFormatError problem). */
  problem?: string | undefined;
}

/** The trace of a session's events: the exact fold when possible, else a partial trace (see above). */
export function traceFromEvents(events: readonly TraceEvent[], source: string): FoldedSession {
  const hasEnd = events.some((e) => e.type === 'run-end');
  const hasError = events.some((e) => e.type === 'run-error');
  let foldProblem: string | undefined;
  if (hasEnd && !hasError) {
    try {
      return { trace: foldEvents(events, { source }), complete: true };
    } catch (e) {
      if (!(e instanceof TraceFormatError)) throw e;
      foldProblem = e.problem;
    }
  }
  const runError = events.find((e): e is RunErrorEvent => e.type === 'run-error')?.message;
  return { trace: partialTrace(events, source, foldProblem), complete: false, runError, problem: foldProblem };
}

function partialTrace(events: readonly TraceEvent[], source: string, foldProblem: string | undefined): Trace {
  let start: RunStartEvent | undefined;
  let end: RunEndEvent | undefined;
  let timing: TimingSummary | undefined;
  let runError: string | undefined;
  const blobs = new Map<string, BlobData>();
  const nodes: NodeRecord[] = [];
  const kernels: KernelRecord[] = [];
  for (const e of events) {
    if (e.type === 'run-start') start ??= e;
    else if (e.type === 'run-end') end ??= e;
    else if (e.type === 'run-error') runError ??= e.message;
    else if (e.type === 'timing') timing ??= e.timing;
    else if (e.type === 'blob' && !blobs.has(e.id)) blobs.set(e.id, e.data);
    else if (e.type === 'node') nodes.push(e.node);
    else if (e.type === 'kernel') kernels.push(e.kernel);
  }
  if (start === undefined) {
    throw new TraceFormatError(source, `no trace can be built: 'run-start' never arrived${runError !== undefined ? ` (the run failed: ${runError})` : ''}`);
  }
  const warnings: string[] = [...(end?.warnings ?? [])];
  if (runError !== undefined) warnings.push(`incomplete: the run failed: ${runError}`);
  else if (end === undefined) {
    warnings.push(`incomplete: the run did not finish; ${uniqueBy(nodes, (n) => n.index).length} of ${start.model?.nodeCount ?? '?'} nodes arrived`);
  }
  if (foldProblem !== undefined) warnings.push(`incomplete: the stored stream does not make a valid trace (${foldProblem}); kept what is consistent`);

  const keptKernels = kernelPrefix(kernels);
  if (keptKernels.length < kernels.length) {
    warnings.push(`incomplete: kept kernels 0..${keptKernels.length - 1}; ${kernels.length - keptKernels.length} kernel event(s) after a gap in the indices were dropped`);
  }
  const used = new Set<string>();
  let droppedRefs = 0;
  const blobOk = (ref: BlobRef | undefined): ref is BlobRef => {
    if (ref === undefined) return false;
    const data = blobs.get(ref.id);
    const ok = data !== undefined && data.length === ref.length && (ref.encoding === 'float32' ? data instanceof Float32Array : data instanceof Int32Array);
    if (ok) used.add(ref.id);
    return ok;
  };
  const keepTensor = <T extends TensorRecord>(t: T): T => {
    if (t.blob === undefined || blobOk(t.blob)) return t;
    droppedRefs++;
    const { blob: _blob, ...rest } = t;
    return rest as T;
  };
  const seenNames = new Set<string>();
  const keptNodes: NodeRecord[] = [];
  for (const n of uniqueBy(stableSortByIndex(nodes), (x) => x.index)) {
    if (seenNames.has(n.name)) continue;
    seenNames.add(n.name);
    const ks = (n.kernels ?? []).filter((k) => keptKernels[k]?.node === n.name);
    keptNodes.push({ ...n, kernels: ks, outputs: (n.outputs ?? []).map(keepTensor) });
  }
  if (keptNodes.length < nodes.length) warnings.push(`incomplete: ${nodes.length - keptNodes.length} duplicate node event(s) dropped`);
  if (droppedRefs > 0) warnings.push(`incomplete: ${droppedRefs} node output(s) keep shape and statistics but their values never arrived`);

  // `?.`: a malformed run-start must reach TraceBuilder, which names the problem, not crash here.
  const declaredInputs = start.input?.tensors ?? [];
  const inputs = declaredInputs.filter((t) => blobOk(t.blob));
  if (inputs.length < declaredInputs.length) {
    warnings.push(`incomplete: ${declaredInputs.length - inputs.length} input tensor(s) left out: their values never arrived`);
  }
  const declaredOutputs = end?.outputs ?? [];
  const outputs: NamedTensor[] = declaredOutputs.filter((t) => blobOk(t.blob));
  if (outputs.length < declaredOutputs.length) {
    warnings.push(`incomplete: ${declaredOutputs.length - outputs.length} model output(s) left out: their values never arrived`);
  }

  const b = new TraceBuilder({ source });
  b.push({ ...start, input: { ...start.input, tensors: inputs } });
  for (const [id, data] of blobs) if (used.has(id)) b.push({ type: 'blob', id, data });
  for (const k of keptKernels) b.push({ type: 'kernel', kernel: k });
  for (const n of keptNodes) b.push({ type: 'node', node: n });
  if (timing !== undefined) b.push({ type: 'timing', timing });
  b.push({ type: 'run-end', outputs, warnings });
  return b.finish();
}

/** Kernels sorted by index, one per index, up to the first missing index. */
function kernelPrefix(kernels: readonly KernelRecord[]): KernelRecord[] {
  const out: KernelRecord[] = [];
  for (const k of uniqueBy(stableSortByIndex(kernels), (x) => x.index)) {
    if (k.index !== out.length) break;
    out.push(k);
  }
  return out;
}

function stableSortByIndex<T extends { index: number }>(items: readonly T[]): T[] {
  return items
    .map((item, pos) => ({ item, pos }))
    .sort((a, b) => a.item.index - b.item.index || a.pos - b.pos)
    .map((x) => x.item);
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => unknown): T[] {
  const seen = new Set<unknown>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
