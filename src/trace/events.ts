/**
 * The event stream <-> Trace. Pure: no DOM, no Node.
 *
 * A producer emits TraceEvents while the model runs (types.ts); TraceBuilder folds them into a Trace.
 * traceToEvents replays a stored Trace as the same kind of stream, so a viewer consumes a saved file
 * and a live run through one code path. Ordering rules: docs/trace-format.md "Event stream".
 */
import { TraceFormatError, TraceRunError } from './errors.ts';
import { blobUses, validateTrace } from './schema.ts';
import { TRACE_FORMAT, TRACE_VERSION } from './types.ts';
import type {
  BlobData,
  CapturePlan,
  KernelRecord,
  NamedTensor,
  NodeRecord,
  ProgressEvent,
  RunStartEvent,
  TimingSummary,
  Trace,
  TraceEvent,
  TraceHeader,
} from './types.ts';

export interface TraceBuilderOptions {
  /** Names the stream in error messages (`ws://pixel-7`, `worker`). Default `event stream`. */
  source?: string;
}

export type TraceBuilderState = 'waiting' | 'running' | 'ended' | 'failed';

/**
 * Folds a TraceEvent stream into a Trace.
 *
 * - `run-start` must come first, exactly once; `run-end` or `run-error` last; pushing anything after
 *   them throws.
 * - `blob` events may come before or after the events that reference them; a blob id may be pushed
 *   once only.
 * - `node` and `kernel` events may arrive in any order; they are sorted by `index` at finish.
 * - `progress` events are remembered (`lastProgress`) but not stored in the trace.
 * - finish() validates the whole trace (the same rules as the file reader) and throws
 *   TraceFormatError naming the problem; blobs that nothing references are dropped with a warning.
 *
 * Blob arrays are kept by reference, not copied.
 */
export class TraceBuilder {
  readonly source: string;
  private start: RunStartEvent | undefined;
  private readonly blobs = new Map<string, BlobData>();
  private readonly nodes: NodeRecord[] = [];
  private readonly kernels: KernelRecord[] = [];
  private timing: TimingSummary | undefined;
  private end: { outputs: NamedTensor[]; warnings: string[]; capturePlan?: CapturePlan } | undefined;
  private failure: string | undefined;
  private progress: ProgressEvent | undefined;
  private result: Trace | undefined;

  constructor(options: TraceBuilderOptions = {}) {
    this.source = options.source ?? 'event stream';
  }

  get state(): TraceBuilderState {
    if (this.failure !== undefined) return 'failed';
    if (this.end !== undefined) return 'ended';
    return this.start === undefined ? 'waiting' : 'running';
  }

  /** The message of the `run-error` event, if the run failed. */
  get error(): string | undefined {
    return this.failure;
  }

  get lastProgress(): ProgressEvent | undefined {
    return this.progress;
  }

  private fail(problem: string): never {
    throw new TraceFormatError(this.source, problem);
  }

  push(event: TraceEvent): void {
    const type: unknown = (event as { type?: unknown }).type;
    if (this.end !== undefined || this.failure !== undefined) {
      this.fail(`'${String(type)}' event after '${this.failure !== undefined ? 'run-error' : 'run-end'}'; the stream has ended`);
    }
    if (this.start === undefined && type !== 'run-start' && type !== 'run-error') {
      this.fail(`'${String(type)}' event before 'run-start'; the stream must begin with run-start`);
    }
    switch (event.type) {
      case 'run-start':
        if (this.start !== undefined) this.fail(`second 'run-start' event; one stream carries one run`);
        this.start = event;
        return;
      case 'blob':
        if (!(event.data instanceof Float32Array) && !(event.data instanceof Int32Array)) {
          this.fail(`blob '${String(event.id)}': data must be a Float32Array or an Int32Array`);
        }
        if (this.blobs.has(event.id)) this.fail(`blob '${event.id}' pushed twice; blob ids must be unique in a trace`);
        this.blobs.set(event.id, event.data);
        return;
      case 'node':
        this.nodes.push(event.node);
        return;
      case 'kernel':
        this.kernels.push(event.kernel);
        return;
      case 'timing':
        if (this.timing !== undefined) this.fail(`second 'timing' event; a trace has one timing summary`);
        this.timing = event.timing;
        return;
      case 'progress':
        this.progress = event;
        return;
      case 'run-end':
        this.end = { outputs: event.outputs, warnings: event.warnings, ...(event.capturePlan ? { capturePlan: event.capturePlan } : {}) };
        return;
      case 'run-error':
        this.failure = event.message;
        return;
      default:
        this.fail(`unknown event type ${JSON.stringify(type)}`);
    }
  }

  /** Same as finish(). */
  get trace(): Trace {
    return this.finish();
  }

  /**
   * The folded, validated Trace. Throws TraceRunError after a `run-error` event, TraceFormatError when
   * run-start or run-end is missing or the trace breaks a rule. Calling it again returns the same Trace.
   */
  finish(): Trace {
    if (this.result !== undefined) return this.result;
    if (this.failure !== undefined) throw new TraceRunError(this.source, this.failure);
    if (this.start === undefined) this.fail(`no 'run-start' event: the stream is empty or did not start`);
    if (this.end === undefined) {
      this.fail(
        `no 'run-end' event: the run did not finish (${this.nodes.length} nodes, ${this.kernels.length} kernels, ${this.blobs.size} blobs received)`,
      );
    }
    const header = foldHeader(this.start, this.timing, this.nodes, this.kernels, this.end);
    const warnings = header.warnings;
    const referenced = new Set(blobUses(header).map((u) => u.ref.id));
    const blobs = new Map<string, BlobData>();
    const dropped: string[] = [];
    for (const [id, data] of this.blobs) {
      if (referenced.has(id)) blobs.set(id, data);
      else dropped.push(id);
    }
    if (dropped.length > 0) {
      const list = dropped.slice(0, 5).join(', ') + (dropped.length > 5 ? ', ...' : '');
      warnings.push(`dropped ${dropped.length} blob(s) that no node, input or output references: ${list}`);
    }
    const trace: Trace = { header, blobs };
    validateTrace(trace, this.source);
    this.result = trace;
    return trace;
  }
}

/**
 * The header a run's events fold into (TraceBuilder here, TraceStreamWriter in file-writer.ts): every
 * run-start field except `type` (fields unknown to this version too), nodes and kernels in index order
 * (stable), run-end's outputs, a fresh copy of its warnings and its capture plan.
 */
export function foldHeader(
  start: RunStartEvent,
  timing: TimingSummary | undefined,
  nodes: readonly NodeRecord[],
  kernels: readonly KernelRecord[],
  end: { outputs: NamedTensor[]; warnings: readonly string[]; capturePlan?: CapturePlan },
): TraceHeader {
  const { type: _type, ...startFields } = start;
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    ...startFields,
    ...(timing !== undefined ? { timing } : {}),
    nodes: stableSortByIndex(nodes),
    kernels: stableSortByIndex(kernels),
    outputs: end.outputs,
    warnings: [...end.warnings],
    ...(end.capturePlan ? { capturePlan: end.capturePlan } : {}),
  };
}

function stableSortByIndex<T extends { index: number }>(items: readonly T[]): T[] {
  return items
    .map((item, pos) => ({ item, pos }))
    .sort((a, b) => a.item.index - b.item.index || a.pos - b.pos)
    .map((x) => x.item);
}

/**
 * Replays a Trace as an event stream, in this order: run-start; blobs of the input tensors; then per
 * node (in order) the kernels up to the node's last kernel that were not emitted yet (in index
 * order), the node's not-yet-emitted output blobs, the node; the remaining kernels; timing (if any);
 * the not-yet-emitted blobs of the model outputs; run-end. Every blob comes before the first event
 * that references it, and only once. Events share objects and typed arrays with `trace` (no copies).
 *
 * Folding the result with TraceBuilder gives back a Trace deep-equal to `trace`.
 */
export function traceToEvents(trace: Trace): TraceEvent[] {
  const h = trace.header;
  const events: TraceEvent[] = [];
  const emitted = new Set<string>();
  const blob = (id: string | undefined): void => {
    if (id === undefined || emitted.has(id)) return;
    const data = trace.blobs.get(id);
    if (data === undefined) throw new TraceFormatError(`trace ${h.id}`, `blob '${id}' is referenced but missing`);
    emitted.add(id);
    events.push({ type: 'blob', id, data });
  };
  // run-start carries every header field that has no event of its own (unknown extra fields too).
  const {
    format: _format,
    version: _version,
    timing: _timing,
    nodes: _nodes,
    kernels: _kernels,
    outputs: _outputs,
    warnings: _warnings,
    capturePlan,
    ...startFields
  } = h;
  events.push({ type: 'run-start', ...startFields });
  for (const t of h.input.tensors) blob(t.blob?.id);
  let nextKernel = 0;
  for (const node of h.nodes) {
    const last = node.kernels.reduce((a, b) => Math.max(a, b), -1);
    for (; nextKernel <= last && nextKernel < h.kernels.length; nextKernel++) {
      events.push({ type: 'kernel', kernel: h.kernels[nextKernel]! });
    }
    for (const t of node.outputs) blob(t.blob?.id);
    events.push({ type: 'node', node });
  }
  for (; nextKernel < h.kernels.length; nextKernel++) events.push({ type: 'kernel', kernel: h.kernels[nextKernel]! });
  if (h.timing !== undefined) events.push({ type: 'timing', timing: h.timing });
  for (const t of h.outputs) blob(t.blob?.id);
  events.push({ type: 'run-end', outputs: h.outputs, warnings: h.warnings, ...(capturePlan ? { capturePlan } : {}) });
  return events;
}

/** Folds events into a Trace (a TraceBuilder fed every event, then finish()). */
export function foldEvents(events: Iterable<TraceEvent>, options?: TraceBuilderOptions): Trace {
  const b = new TraceBuilder(options);
  for (const e of events) b.push(e);
  return b.finish();
}
