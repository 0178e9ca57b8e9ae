/**
 * Kernel timeline as Chrome trace-event JSON (opens in ui.perfetto.dev and chrome://tracing).
 * Pure: no DOM, no Node.
 *
 * Format: the Trace Event Format's JSON object form, `{traceEvents: [...], displayTimeUnit}`; `ts` and
 * `dur` are microseconds (fractions allowed). Layout:
 * - one process (pid 1) named after the model and runtime/backend;
 * - one thread (track) per clock kind present, named `clock: <kind>`, in order of first use;
 * - one complete event (`ph: 'X'`) per kernel, in kernel order, laid end to end on a single time axis
 *   starting at 0: a kernel starts when the previous one ends, whatever its track. The layout is
 *   synthetic: gaps between kernels (dispatch, sync, JS) are not measured and not shown. A kernel
 *   without a time (clock `unavailable`) is a zero-length event.
 */
import type { Clock, Trace } from '../types.ts';

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, string | number | null>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms' | 'ns';
  /** Free-form metadata (shown by chrome://tracing under "Metadata"). */
  otherData: Record<string, string | number>;
}

const PID = 1;

function shapeText(shape: readonly number[] | null): string {
  return shape === null ? '?' : `[${shape.join(',')}]`;
}

/** Chrome trace-event JSON of the kernel timeline of `trace`. JSON.stringify the result to save it. */
export function toPerfetto(trace: Trace): ChromeTrace {
  const h = trace.header;
  const nodeOp = new Map(h.nodes.map((n) => [n.name, n.op]));
  const tids = new Map<Clock, number>();
  for (const k of h.kernels) if (!tids.has(k.clock)) tids.set(k.clock, tids.size + 1);

  const events: ChromeTraceEvent[] = [
    {
      name: 'process_name',
      ph: 'M',
      pid: PID,
      tid: 0,
      args: { name: `${h.model.name} · ${h.runtime.name} ${h.runtime.version} (${h.runtime.backend})` },
    },
  ];
  if (h.label !== undefined) events.push({ name: 'process_labels', ph: 'M', pid: PID, tid: 0, args: { labels: h.label } });
  for (const [clock, tid] of tids) {
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name: `clock: ${clock}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: tid } });
  }

  let tsMs = 0;
  for (const k of h.kernels) {
    const ms = k.ms ?? 0;
    events.push({
      name: k.name,
      cat: `kernel,${k.clock}`,
      ph: 'X',
      pid: PID,
      tid: tids.get(k.clock)!,
      ts: tsMs * 1000,
      dur: ms * 1000,
      args: {
        kernel: k.index,
        node: k.node,
        op: k.node === null ? null : (nodeOp.get(k.node) ?? null),
        clock: k.clock,
        ms: k.ms,
        inputShapes: k.inputShapes.map(shapeText).join(' '),
        outputShapes: k.outputShapes.map(shapeText).join(' '),
      },
    });
    tsMs += ms;
  }

  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      traceId: h.id,
      createdAt: h.createdAt,
      model: h.model.name,
      runtime: `${h.runtime.name} ${h.runtime.version}`,
      backend: h.runtime.backend,
      userAgent: h.environment.userAgent,
      layout: 'synthetic: kernels laid end to end in execution order; gaps between kernels are not measured',
      kernelTimeMs: tsMs,
    },
  };
}
