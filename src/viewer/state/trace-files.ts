/**
 * `.exray` files: open (one to view, two or more to compare: one becomes the reference), save a run,
 * export Perfetto JSON and Model Explorer node data. An opened trace is replayed as an event stream
 * through an in-page transport: the viewer consumes files and live runs through one code path.
 */
import { encodeTrace } from '../../trace/file-writer.ts';
import { traceToEvents } from '../../trace/events.ts';
import { toPerfetto } from '../../trace/export/perfetto.ts';
import { GREEN_TO_RED, toModelExplorerNodeData } from '../../trace/export/model-explorer.ts';
import type { Trace } from '../../trace/types.ts';
import { createInPageTransport } from '../../transport/in-page.ts';
import { cardCompareOptions } from '../load/model.ts';
import { download, safeName } from '../util/download.ts';
import { RunState } from './run-state.ts';
import { follow, setCompareOptions } from './session.ts';
import { getState, setState } from './store.ts';
import { prewarmTraceReaders } from '../worker/client.ts';
import type { OpenedFiles } from './opening.ts';
import { whenIdle } from '../util/idle.ts';
import { OPEN_MEASURES } from '../util/marks.ts';

/** Which of several traces is the reference: one that says so, else a cpu run, else the last one. */
export function pickReference(traces: Trace[]): number {
  const ids = new Set(traces.map((t) => t.header.id));
  const claimed = traces.findIndex((t) => t.header.referenceFor !== undefined && ids.has(t.header.referenceFor));
  if (claimed >= 0) return claimed;
  const labelled = traces.findIndex((t) => /reference/i.test(t.header.label ?? ''));
  if (labelled >= 0) return labelled;
  const cpu = traces.findIndex((t) => t.header.runtime.backend === 'cpu' || t.header.environment.kind === 'node');
  if (cpu >= 0 && traces.some((t) => t.header.runtime.backend !== 'cpu')) return cpu;
  return traces.length - 1;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base} (${i})`;
  taken.add(name);
  return name;
}


/**
 * Opened traces (opening.ts openTraces: each file read in its own trace-reader worker, off the page's
 * thread, files in parallel) replayed into runs, the reference first, and compared.
 */
export async function showOpenedTraces({ files, decoded: reading, since: t0 }: OpenedFiles): Promise<void> {
  const traces: { trace: Trace; file: string }[] = [];
  const problems: string[] = [];
  const decoded = await reading;
  const t1 = performance.now();
  performance.measure(OPEN_MEASURES.read, { start: t0, end: t1 });
  // Readers for the next files, once this opening is shown.
  whenIdle(prewarmTraceReaders);
  decoded.forEach((d, i) => {
    const f = files[i]!;
    if (d.status === 'fulfilled') traces.push({ trace: d.value, file: f.name });
    else {
      const why = d.reason instanceof Error ? d.reason.message : String(d.reason);
      // The reader's messages name the file; a worker that crashed on it does not.
      problems.push(why.startsWith(f.name) ? why : `${f.name}: ${why}`);
    }
  });
  if (traces.length === 0) {
    setState({ notice: problems.join('\n') || 'no trace could be opened' });
    return;
  }
  const refIdx = traces.length > 1 ? pickReference(traces.map((t) => t.trace)) : -1;
  const taken = new Set<string>();
  const runs = traces.map(({ trace, file }, i) => {
    const h = trace.header;
    const name = uniqueName(`${h.label ?? h.runtime.backend} · ${file}`, taken);
    const run = new RunState(name, i === refIdx ? 'reference' : 'edge', h.runtime.backend, file);
    run.decoded = trace;
    return run;
  });
  // Reference first, so that edges are compared as they arrive.
  const order = runs.map((_, i) => i).sort((a, b) => Number(b === refIdx) - Number(a === refIdx));
  const card = getState().index?.models.find((m) => m.name === traces[0]!.trace.header.model.name)?.card ?? null;
  setCompareOptions({ ...cardCompareOptions(card), tolerance: { preset: getState().preset } });
  setState({
    runs: order.map((i) => runs[i]!),
    source: 'files',
    selectedRun: runs.find((r) => r.role === 'edge')?.stream ?? null,
    selectedNode: null,
    notice: problems.length > 0 ? problems.join('\n') : null,
  });
  const transport = createInPageTransport();
  const stop = follow(transport, { live: false });
  for (const i of order) for (const event of traceToEvents(traces[i]!.trace)) transport.send({ stream: runs[i]!.stream, event });
  stop();
  transport.close();
  performance.measure(OPEN_MEASURES.compare, { start: t1, end: performance.now() });
}

function runByStream(stream: string): RunState | undefined {
  return getState().runs.find((r) => r.stream === stream);
}

function baseFileName(run: RunState, trace: Trace): string {
  return safeName(`${trace.header.model.name}-${run.stream}`);
}

export function saveRun(stream: string): void {
  const run = runByStream(stream);
  if (!run?.trace) return;
  download(encodeTrace(run.trace), `${baseFileName(run, run.trace)}.exray`, 'application/zip');
}

export function exportPerfetto(stream: string): void {
  const run = runByStream(stream);
  if (!run?.trace) return;
  download(JSON.stringify(toPerfetto(run.trace)), `${baseFileName(run, run.trace)}.perfetto.json`, 'application/json');
}

/** Per-node nrmse vs the reference (worst output of each node) as Model Explorer node data. */
export function exportModelExplorer(stream: string): void {
  const run = runByStream(stream);
  if (!run?.trace) return;
  const worst = new Map<string, number>();
  for (const n of run.comparison?.nodes ?? []) {
    const v = n.metrics?.nrmse;
    if (v !== undefined && Number.isFinite(v)) worst.set(n.name, Math.max(worst.get(n.name) ?? 0, v));
  }
  const data = toModelExplorerNodeData(run.trace, (node) => worst.get(node.name), { name: `nrmse ${run.stream} vs reference`, gradient: GREEN_TO_RED });
  download(JSON.stringify(data, null, 1), `${baseFileName(run, run.trace)}.model-explorer.json`, 'application/json');
}
