/**
 * Page side of the workers: request/response over postMessage, and where each run executes.
 *
 * - `UtilityWorker`: one for the page; probes backends, pre-processes photos.
 * - `replayInWorker`: single-node replays of an edge trace's nodes on the reference model, in a fresh
 *   trace worker.
 * - `runJob`: one fresh trace worker per job (flags are per backend initialisation), its events
 *   delivered through a postMessage TraceTransport; or, for a backend that only works on the page's
 *   main thread, the same job code with an in-page transport.
 */
import type { TraceTransport } from '../../transport/types.ts';
import { createWorkerTransport } from '../../transport/worker.ts';
import { createInPageTransport } from '../../transport/in-page.ts';
import { replayEdge, type BackendProbe, type FitEdgeInput, type FittedInput, type InputPayload, type ModelPayload, type PreparedInput, type ReplayAnswer, type ReplayJob, type RunJob, type WorkerRequest, type WorkerResponse } from './protocol.ts';
import type { PreprocessSpec, Trace } from '../../trace/types.ts';

export class WorkerRequestError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

type Pending = { resolve: (r: WorkerResponse) => void; reject: (e: Error) => void; onStatus?: (phase: string) => void };

/** One Worker with numbered requests; a crash rejects every pending request. */
class RequestChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(readonly worker: Worker) {
    worker.addEventListener('message', (e: MessageEvent) => {
      const r = e.data as Partial<WorkerResponse>;
      if (typeof r !== 'object' || r === null || typeof r.id !== 'number') return;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.type === 'status') {
        p.onStatus?.(r.phase ?? '');
        return;
      }
      this.pending.delete(r.id);
      if (r.type === 'failed') p.reject(new WorkerRequestError(r.message ?? 'failed', r.file));
      else p.resolve(r as WorkerResponse);
    });
    worker.addEventListener('error', (e: ErrorEvent) => this.failAll(`worker crashed: ${e.message || 'error loading the worker script'}`));
    worker.addEventListener('messageerror', () => this.failAll('worker message could not be deserialized'));
  }

  failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new WorkerRequestError(message));
    this.pending.clear();
  }

  request<T extends WorkerResponse['type']>(
    req: DistributiveOmit<WorkerRequest, 'id'>,
    expect: T,
    onStatus?: (phase: string) => void,
    transfer: Transferable[] = [],
  ): Promise<Extract<WorkerResponse, { type: T }>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.type === expect ? resolve(r as Extract<WorkerResponse, { type: T }>) : reject(new WorkerRequestError(`unexpected reply ${r.type}`))),
        reject,
        ...(onStatus ? { onStatus } : {}),
      });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class UtilityWorker {
  private readonly channel = new RequestChannel(new Worker(new URL('./util-worker.ts', import.meta.url), { type: 'module', name: 'exray-util' }));

  async probe(): Promise<BackendProbe[]> {
    return (await this.channel.request({ type: 'probe' }, 'probed')).backends;
  }

  async prepare(blob: Blob, fileName: string, spec: PreprocessSpec): Promise<PreparedInput> {
    return (await this.channel.request({ type: 'prepare', blob, fileName, spec }, 'prepared')).input;
  }

  /** Decode the original photo, make the canonical input and search the edge's pre-processing (diagnosis). */
  async fitInput(blob: Blob, fileName: string, spec: PreprocessSpec, edge: FitEdgeInput): Promise<FittedInput> {
    return (await this.channel.request({ type: 'fit-input', blob, fileName, spec, edge }, 'input-fitted')).fitted;
  }
}

function newTraceReader(): Worker {
  return new Worker(new URL('./trace-reader.ts', import.meta.url), { type: 'module', name: 'exray-trace-reader' });
}

/** Trace readers started ahead, each used once: two files (a comparison) open without a worker start. */
const spareReaders: Worker[] = [];
const SPARE_READERS = 2;
/** Files being read in trace readers now. */
let reading = 0;

/**
 * Start trace-reader workers ahead of use (after the first paint, and again once an opening is shown):
 * opening files then does not wait for a worker to start and fetch, compile and run the reader's
 * module (zip, schema, codecs).
 */
export function prewarmTraceReaders(): void {
  // Not while files are being read: starting a worker (fetch, compile, run the reader's module) takes
  // a core from them. The opening asks again once it is shown (trace-files.ts).
  if (reading > 0) return;
  while (spareReaders.length < SPARE_READERS) spareReaders.push(newTraceReader());
}

/**
 * Decode an `.exray` file in a fresh trace-reader worker (trace-reader.ts), terminated once it
 * answered: off the page's thread, and files opened together are read in parallel. A bad file
 * rejects with the reader's message (`<file>: <problem>`).
 */
export async function decodeTraceInWorker(file: File): Promise<Trace> {
  const worker = spareReaders.shift() ?? newTraceReader();
  reading++;
  try {
    return (await new RequestChannel(worker).request({ type: 'decode-trace', file }, 'trace-decoded')).trace;
  } finally {
    reading--;
    worker.terminate();
  }
}

export interface JobHandle {
  /** Where the job's trace events arrive (stream = job.stream). */
  transport: TraceTransport;
  /** Resolves when the run ended, rejects when it failed. */
  done: Promise<void>;
  /** Stop the job (terminates its worker). */
  cancel(): void;
}

/**
 * Start `job` in a fresh trace worker. The transport must be subscribed to before any event arrives:
 * `subscribe` runs synchronously before the worker can answer.
 */
export function runJobInWorker(
  model: ModelPayload,
  input: InputPayload,
  job: RunJob,
  subscribe: (t: TraceTransport) => void,
  onStatus: (phase: string) => void,
): JobHandle {
  const worker = new Worker(new URL('./trace-worker.ts', import.meta.url), { type: 'module', name: `exray-${job.stream}` });
  const transport = createWorkerTransport(worker, { onClose: () => worker.terminate() });
  subscribe(transport);
  const channel = new RequestChannel(worker);
  const done = channel.request({ type: 'run', model, input, job }, 'ran', onStatus).then(() => undefined);
  const finish = (): void => {
    // Let queued trace messages drain before the worker goes away.
    setTimeout(() => transport.close(), 0);
  };
  done.then(finish, finish);
  return {
    transport,
    done,
    cancel: () => {
      channel.failAll('cancelled');
      transport.close();
    },
  };
}

/**
 * Fallback for a backend that does not work in workers here: the same job code on the page's main
 * thread, events through an in-page transport. The page is busy while each pass runs.
 */
export function runJobOnMainThread(
  model: ModelPayload,
  input: InputPayload,
  job: RunJob,
  subscribe: (t: TraceTransport) => void,
  onStatus: (phase: string) => void,
): JobHandle {
  const transport = createInPageTransport();
  subscribe(transport);
  const done = (async () => {
    // TF.js is loaded on the page only when a run needs the main thread.
    const { executeJob } = await import('./run-job.ts');
    await executeJob(model, input, job, transport, onStatus);
  })();
  const close = (): void => transport.close();
  done.then(close, close);
  return { transport, done, cancel: close };
}

export interface ReplayHandle {
  done: Promise<ReplayAnswer>;
  /** Stop the replays (terminates the worker; `done` rejects). */
  cancel(): void;
}

/**
 * Replay `job.nodes` of `edge` alone on `model` in a fresh trace worker (replay-job.ts). Only the blobs
 * those nodes read are posted (`replayEdge`, structured-cloned: the page keeps the edge trace); the
 * replayed outputs come back transferred. The worker is terminated when the answer arrives.
 */
export function replayInWorker(model: ModelPayload, edge: Trace, job: ReplayJob, onStatus: (phase: string) => void = () => {}): ReplayHandle {
  const worker = new Worker(new URL('./trace-worker.ts', import.meta.url), { type: 'module', name: 'exray-replay' });
  const channel = new RequestChannel(worker);
  const done = channel.request({ type: 'replay', model, edge: replayEdge(edge, job.nodes), job }, 'replayed', onStatus).then((r) => r.answer);
  const end = (): void => worker.terminate();
  done.then(end, end);
  return {
    done,
    cancel: () => {
      channel.failAll('cancelled');
      worker.terminate();
    },
  };
}
