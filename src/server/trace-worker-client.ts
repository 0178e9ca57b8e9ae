/**
 * The trace worker, main-thread side: one long-lived worker thread (trace-worker.ts) that does the
 * session store's CPU-heavy trace work (fold, validate, encode, decode; see trace-jobs.ts), so that
 * `exray serve`'s socket loop never stalls for the seconds a big trace takes to zip and checksum.
 *
 * - The thread starts with the first job, not before (the CLI rarely needs it).
 * - Jobs queue and run one at a time, in call order (one core for traces, the other for the server).
 * - A crash (an uncaught error, an exit, out of memory) fails the job in progress with a
 *   TraceWorkerError naming it; queued jobs then run on a new thread.
 * - An idle thread does not keep the process alive; a busy one does (a write is never cut short by
 *   the process running out of other work).
 *
 * One instance is shared by every store of the process (sharedTraceWorker()); tests may give a store
 * its own.
 */
import { Worker } from 'node:worker_threads';
import { rebuildError, type FromTraceWorker, type ToTraceWorker, type TraceJobName, type TraceJobs } from './trace-protocol.ts';

/** The trace worker could not run a job: it crashed while running it, or it was closed. */
export class TraceWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceWorkerError';
  }
}

interface Job {
  msg: ToTraceWorker;
  transfer: ArrayBuffer[];
  /** For error messages: `finalize session s-…`. */
  what: string;
  resolve: (result: unknown) => void;
  reject: (e: Error) => void;
}

const BOOT_URL = new URL('./trace-worker-boot.mjs', import.meta.url);

export class TraceWorker {
  private worker: Worker | null = null;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private nextJob = 1;
  private closed = false;
  private started = 0;

  /** `url`: the worker's entry (tests substitute one); default trace-worker-boot.mjs. */
  constructor(private readonly url: URL = BOOT_URL) {}

  /** Threads started so far: 1 after the first job, one more after each crash. */
  get threadsStarted(): number {
    return this.started;
  }

  /**
   * Queues a job; resolves with its result (typed arrays transferred from the worker) or rejects with
   * the error the job threw, rebuilt with its class. `transfer`: buffers of `args` to move, not copy,
   * to the worker (they are detached here when the job's turn comes).
   */
  run<K extends TraceJobName>(t: K, args: TraceJobs[K]['args'], what: string, transfer: ArrayBuffer[] = []): Promise<TraceJobs[K]['result']> {
    if (this.closed) return Promise.reject(new TraceWorkerError(`the trace worker is closed; cannot ${what}`));
    return new Promise((resolve, reject) => {
      const msg = { job: this.nextJob++, t, args } as ToTraceWorker;
      this.queue.push({ msg, transfer, what, resolve: resolve as (r: unknown) => void, reject });
      this.pump();
    });
  }

  /** Ends the thread; the job in progress and queued ones fail. Later jobs are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    const jobs = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    for (const j of jobs) j.reject(new TraceWorkerError(`the trace worker was closed before it could ${j.what}`));
    if (w) await w.terminate();
  }

  /** Sends the next job when none is in progress. */
  private pump(): void {
    while (this.current === null && this.queue.length > 0 && !this.closed) {
      const job = this.queue.shift()!;
      try {
        (this.worker ?? this.start()).postMessage(job.msg, job.transfer);
      } catch (e) {
        // Could not start a thread, or the arguments do not clone: this job fails, the next may not.
        job.reject(e instanceof Error ? e : new Error(String(e)));
        continue;
      }
      this.current = job;
    }
    this.keepAlive();
  }

  private start(): Worker {
    const worker = new Worker(this.url, { name: 'exray-trace' });
    this.started++;
    worker.on('message', (m: FromTraceWorker) => this.onMessage(worker, m));
    worker.on('messageerror', (e) => this.settle(worker, undefined, (job) => job.reject(new TraceWorkerError(`the trace worker's answer to ${job.what} did not arrive intact: ${e.message}`))));
    worker.on('error', (e) => this.crashed(worker, e.message));
    worker.on('exit', (code) => this.crashed(worker, `exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private onMessage(worker: Worker, m: FromTraceWorker): void {
    this.settle(worker, m.job, (job) => (m.ok ? job.resolve(m.result) : job.reject(rebuildError(m.error))));
  }

  /** Ends the job in progress (if `worker` is the current thread and, when given, the job id matches), then sends the next. */
  private settle(worker: Worker, jobId: number | undefined, end: (job: Job) => void): void {
    const job = this.current;
    if (worker !== this.worker || job === null || (jobId !== undefined && job.msg.job !== jobId)) return;
    this.current = null;
    this.pump();
    end(job);
  }

  /** The thread is gone: only the job it was running fails; the queue goes on with a new thread. */
  private crashed(worker: Worker, why: string): void {
    if (worker !== this.worker) return;
    this.worker = null;
    // After 'error' the thread is on its way out; make sure it does not linger.
    void worker.terminate().catch(() => undefined);
    const job = this.current;
    this.current = null;
    if (job) job.reject(new TraceWorkerError(`the trace worker crashed (${why}) while it was to ${job.what}; that job failed, later jobs run on a new worker`));
    this.pump();
  }

  /** An idle thread must not keep the process alive; a busy one must. */
  private keepAlive(): void {
    if (!this.worker) return;
    if (this.current !== null || this.queue.length > 0) this.worker.ref();
    else this.worker.unref();
  }
}

let shared: TraceWorker | null = null;

/** The process's trace worker (its thread starts with the first job). */
export function sharedTraceWorker(): TraceWorker {
  return (shared ??= new TraceWorker());
}
