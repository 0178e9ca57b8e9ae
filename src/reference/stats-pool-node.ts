/**
 * A StatsPool of Node worker threads: each array is transferred (not copied) to the least busy
 * thread, which runs computeStats and transfers it back with its statistics, so a capture's many
 * outputs are summarised in parallel and off the thread that reads them. Arrays too small to be worth
 * a message are done on the calling thread. Until a thread says it is ready nothing is transferred to
 * it; a thread that cannot start (no tsx, a bundle without the worker file) leaves its jobs to the
 * calling thread, so the pool never loses values it was given before a thread was up; until one is
 * up, the calling thread works through the queue itself.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { BlobData, TensorStats } from '../trace/types.ts';
import { computeStats } from '../trace/stats.ts';
import type { StatsPool, StatsResult } from '../trace/stats-pool.ts';

export interface StatsToWorker {
  id: number;
  data: BlobData;
  bins: number;
}

export type StatsFromWorker = { ready: true } | { id: number; stats: TensorStats; data: BlobData } | { id: number; error: string; data: BlobData };

const WORKER_URL = new URL('./stats-worker-boot.mjs', import.meta.url);

interface Job {
  id: number;
  data: BlobData;
  bins: number;
  resolve: (r: StatsResult) => void;
  reject: (e: Error) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** Jobs sent and not answered, by id. */
  inFlight: Map<number, Job>;
  /** Elements sent and not answered (the thread's backlog). */
  load: number;
}

export interface NodeStatsPoolOptions {
  /** Worker threads (default: the machine's parallelism, at most 4). */
  threads?: number;
  /** Arrays shorter than this are done on the calling thread (default 16,384 elements). */
  minElements?: number;
  /** The thread's entry (default stats-worker-boot.mjs next to this file; tests give a missing one). */
  workerUrl?: URL;
}

export class NodeStatsPool implements StatsPool {
  private readonly threads: Thread[] = [];
  private readonly waiting: Job[] = [];
  private readonly size: number;
  private readonly minElements: number;
  private readonly url: URL;
  private started = false;
  private closed = false;
  private helping = false;
  private readyWaiters: ((up: boolean) => void)[] = [];
  private nextId = 0;
  /** Arrays sent to a thread so far. */
  sent = 0;

  constructor(options: NodeStatsPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.threads ?? Math.min(4, availableParallelism())));
    this.minElements = options.minElements ?? 16384;
    this.url = options.workerUrl ?? WORKER_URL;
  }

  warm(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /** Resolves true once a thread is up, false when none can start (the pool then computes here). */
  whenReady(): Promise<boolean> {
    this.warm();
    if (this.threads.some((t) => t.ready)) return Promise.resolve(true);
    if (this.threads.length === 0) return Promise.resolve(false);
    // Someone waits for the threads: they keep the process alive until one is up (or all failed).
    for (const t of this.threads) t.worker.ref();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  stats(data: BlobData, bins: number): Promise<StatsResult> {
    if (this.closed || data.length < this.minElements) return Promise.resolve({ stats: computeStats(data, bins), data });
    this.warm();
    if (this.threads.length === 0) return Promise.resolve({ stats: computeStats(data, bins), data });
    return new Promise<StatsResult>((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, data, bins, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.drainHere();
    for (const w of this.readyWaiters.splice(0)) w(false);
    const threads = this.threads.splice(0);
    for (const t of threads) this.fail(t, 'the statistics pool was closed');
    await Promise.all(threads.map((t) => t.worker.terminate().catch(() => undefined)));
  }

  private spawn(): void {
    let worker: Worker;
    try {
      worker = new Worker(this.url, { name: 'exray-stats' });
    } catch {
      return;
    }
    const t: Thread = { worker, ready: false, inFlight: new Map(), load: 0 };
    this.threads.push(t);
    worker.on('message', (m: StatsFromWorker) => this.onMessage(t, m));
    worker.on('error', (e) => this.gone(t, e.message));
    worker.on('exit', (code) => this.gone(t, `exited with code ${code}`));
    // After the listeners: a 'message' listener refs the worker's port again (an idle pool that was
    // never closed then kept the process alive).
    worker.unref();
  }

  private onMessage(t: Thread, m: StatsFromWorker): void {
    if ('ready' in m) {
      t.ready = true;
      for (const w of this.readyWaiters.splice(0)) w(true);
      for (const u of this.threads) if (u.inFlight.size === 0) u.worker.unref();
      this.pump();
      return;
    }
    const job = t.inFlight.get(m.id);
    if (!job) return;
    t.inFlight.delete(m.id);
    t.load -= m.data.length;
    if (t.inFlight.size === 0) t.worker.unref();
    if ('error' in m) job.reject(new Error(`statistics worker: ${m.error}`));
    else job.resolve({ stats: m.stats, data: m.data });
  }

  /** Send waiting jobs to ready threads, the least loaded first; with no thread left, do them here. */
  private pump(): void {
    const ready = this.threads.filter((t) => t.ready);
    if (ready.length === 0) {
      if (this.threads.length === 0) this.drainHere();
      else this.help();
      return;
    }
    for (let job = this.waiting.shift(); job; job = this.waiting.shift()) {
      let t = ready[0]!;
      for (const u of ready) if (u.load < t.load) t = u;
      t.inFlight.set(job.id, job);
      t.load += job.data.length;
      t.worker.ref();
      this.sent++;
      t.worker.postMessage({ id: job.id, data: job.data, bins: job.bins } satisfies StatsToWorker, [job.data.buffer as ArrayBuffer]);
    }
  }

  /**
   * While no thread is up yet (a thread loads tsx and the kernel first: seconds on a busy machine), the
   * calling thread takes the oldest waiting job, one per turn of the event loop, so the capture is not
   * held up by the threads' start and a thread that becomes ready takes the rest.
   */
  private help(): void {
    if (this.helping) return;
    this.helping = true;
    setImmediate(() => {
      this.helping = false;
      if (this.threads.some((t) => t.ready)) return this.pump();
      const job = this.waiting.shift();
      if (job) this.here(job);
      if (this.waiting.length > 0) this.help();
    });
  }

  private here(job: Job): void {
    try {
      job.resolve({ stats: computeStats(job.data, job.bins), data: job.data });
    } catch (e) {
      job.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private drainHere(): void {
    for (let job = this.waiting.shift(); job; job = this.waiting.shift()) this.here(job);
  }

  /** A thread ended: its answered-never jobs fail (their arrays went with it); the others go on. */
  private gone(t: Thread, why: string): void {
    const i = this.threads.indexOf(t);
    if (i < 0) return;
    this.threads.splice(i, 1);
    if (this.threads.length === 0) for (const w of this.readyWaiters.splice(0)) w(false);
    this.fail(t, `a statistics worker ended (${why})`);
    this.pump();
  }

  private fail(t: Thread, why: string): void {
    for (const job of t.inFlight.values()) job.reject(new Error(`${why} before it returned the statistics of a ${job.data.length}-element array`));
    t.inFlight.clear();
    t.load = 0;
  }
}

let shared: NodeStatsPool | undefined;

/**
 * One pool for the process (TF.js traces in Node: `exray trace`, `reference`, the server's reference
 * runs), so that consecutive traces do not each start threads (a thread loads its kernel, and tsx from
 * sources: seconds on a busy machine). Its threads are unreferenced while idle, so the process exits
 * as if it had none; never closed.
 */
export function sharedNodeStatsPool(): NodeStatsPool {
  shared ??= new NodeStatsPool();
  return shared;
}
