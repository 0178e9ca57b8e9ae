/**
 * Opening `.exray` traces, from the moment they are picked or dropped. The reading starts here, in
 * the shell's code: the trace readers (workers started ahead) get the files at once, and the chunk
 * that replays and compares them (trace-files.ts) loads meanwhile, not before (on a page busy with
 * its start-up, the viewer bench's "rest" — the input event, that import, the harness's round trips —
 * was 0.07–0.3 s; in one Chromium trace the import alone took 0.2 s; issue #16 item 5).
 *
 * The page's own opening choices (the sample model and photo it preselects at start) wait until the
 * traces are read and compared, then give way if they were opened: adopting them meanwhile (loading,
 * preparing, painting) ran beside the trace readers on the same cores.
 */
import type { Trace } from '../../trace/types.ts';
import { loadResultsView } from '../components/results-chunk.ts';
import { decodeTraceInWorker } from '../worker/client.ts';

let opening = 0;
let waiting: (() => void)[] = [];

/** What the replay of an opening gets: the files, each one's decoded trace (or why not), and when reading began. */
export interface OpenedFiles {
  files: File[];
  decoded: Promise<PromiseSettledResult<Trace>[]>;
  /** performance.now() when the reading began. */
  since: number;
}

/** Open `files`: read each in a trace reader now, then replay and compare them (trace-files.ts). Resolves once compared. */
export function openTraces(files: File[]): Promise<void> {
  opening++;
  const since = performance.now();
  const decoded = Promise.allSettled(files.map((f) => decodeTraceInWorker(f)));
  // The results view's chunk loads while the files are read (it is usually here already).
  loadResultsView().catch(() => {});
  return import('./trace-files.ts').then((m) => m.showOpenedTraces({ files, decoded, since })).finally(() => {
    if (--opening > 0) return;
    const wake = waiting;
    waiting = [];
    for (const w of wake) w();
  });
}

/** Resolves at once when no traces are being opened, else when the last opening has ended (well or not). */
export function whenNoTracesOpening(): Promise<void> {
  return opening === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
}
