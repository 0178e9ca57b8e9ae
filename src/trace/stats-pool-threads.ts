/**
 * The scheduling of a StatsPool over worker threads, whatever the threads are (Node worker_threads:
 * src/reference/stats-pool-node.ts; Web Workers: src/viewer/worker/stats-pool-web.ts). Each array is
 * transferred (not copied) to the least busy thread, which runs computeStats and transfers it back with
 * its statistics; an array over a SharedArrayBuffer is only shared, and its answer is the statistics.
 * Arrays too small to be worth a message are done on the calling thread. Until a thread says it is
 * ready nothing is transferred to it; a thread that cannot start leaves its jobs to the calling
 * thread, so the pool never loses values it was given before a thread was up; until one is up, the
 * calling thread works through the queue itself. Pure: no Node, no DOM.
 */
import type { BlobData, TensorStats } from './types.ts';
import { computeStats } from './stats.ts';
import type { StatsPool, StatsResult } from './stats-pool.ts';
import type { ReadyMemory } from './ready-memory.ts';

export interface StatsToWorker {
  id: number;
  data: BlobData;
  bins: number;
}

/** `data`: the array transferred back; absent when it was shared (the sender still has it). */
export type StatsFromWorker = { ready: true } | { id: number; stats: TensorStats; data?: BlobData } | { id: number; error: string; data?: BlobData };

/** Whether `data` lies in shared memory (sent and answered without a transfer). */
export function isSharedBlob(data: BlobData): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
}

/** A worker's answer to one job, and the buffer it gives back (the body of every statistics worker). */
export function answerStats(m: StatsToWorker): { reply: StatsFromWorker; transfer: ArrayBuffer[] } {
  const shared = isSharedBlob(m.data);
  const back = shared ? {} : { data: m.data };
  let reply: StatsFromWorker;
  try {
    reply = { id: m.id, stats: computeStats(m.data, m.bins), ...back };
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? e.message : String(e), ...back };
  }
  return { reply, transfer: shared ? [] : [m.data.buffer as ArrayBuffer] };
}

/** One started worker as the pool drives it. */
export interface StatsThread {
  post(m: StatsToWorker, transfer: ArrayBuffer[]): void;
  terminate(): Promise<void>;
  /** Whether the thread should keep its process alive (Node: ref / unref; nothing on the web). */
  hold(busy: boolean): void;
}

/** What a started thread reports to the pool. */
export interface StatsThreadEvents {
  message(m: StatsFromWorker): void;
  /** The thread ended or failed to load (its unanswered jobs are lost with it). */
  gone(why: string): void;
}

interface Job {
  id: number;
  data: BlobData;
  bins: number;
  resolve: (r: StatsResult) => void;
  reject: (e: Error) => void;
}

interface Thread {
  port: StatsThread;
  ready: boolean;
  /** Jobs sent and not answered, by id. */
  inFlight: Map<number, Job>;
  /** Elements sent and not answered (the thread's backlog). */
  load: number;
}

export interface ThreadStatsPoolOptions {
  /** Worker threads (at least 1). */
  threads: number;
  /** Arrays shorter than this are done on the calling thread (default 16,384 elements). */
  minElements?: number;
  /** The threads can read SharedArrayBuffer arrays (StatsPool.sharesMemory). */
  sharesMemory?: boolean;
}

export abstract class ThreadStatsPool implements StatsPool {
  private readonly threads: Thread[] = [];
  private readonly waiting: Job[] = [];
  /** Worker threads the pool starts. */
  readonly size: number;
  readonly sharesMemory: boolean;
  private readonly minElements: number;
  private started = false;
  private closed = false;
  private helping = false;
  private readyWaiters: ((up: boolean) => void)[] = [];
  private nextId = 0;
  /** Arrays sent to a thread so far. */
  sent = 0;
  /** Arrays given out of ready memory so far (readyBlob). */
  readyTaken = 0;
  /** Memory made ready for the copies captures hand to the pool (set by a subclass; null: none). */
  protected memory: ReadyMemory | null = null;

  constructor(options: ThreadStatsPoolOptions) {
    this.size = Math.max(1, Math.floor(options.threads));
    this.minElements = options.minElements ?? 16384;
    this.sharesMemory = (options.sharesMemory ?? false) && typeof SharedArrayBuffer !== 'undefined';
  }

  /** Start one thread (null when it cannot be created here); it reports through `events`. */
  protected abstract spawn(events: StatsThreadEvents): StatsThread | null;
  /** Run `f` on a later turn of the event loop (after pending I/O and messages). */
  protected abstract later(f: () => void): void;

  warm(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (let i = 0; i < this.size; i++) {
      // A thread's events arrive on later turns, once `t` below is in place.
      const events: StatsThreadEvents = { message: (m) => this.onMessage(t, m), gone: (why) => this.gone(t, why) };
      let port: StatsThread | null;
      try {
        port = this.spawn(events);
      } catch {
        port = null;
      }
      if (!port) continue;
      const t: Thread = { port, ready: false, inFlight: new Map(), load: 0 };
      this.threads.push(t);
    }
  }

  /** Resolves true once a thread is up, false when none can start (the pool then computes here). */
  whenReady(): Promise<boolean> {
    this.warm();
    if (this.threads.some((t) => t.ready)) return Promise.resolve(true);
    if (this.threads.length === 0) return Promise.resolve(false);
    // Someone waits for the threads: they keep the process alive until one is up (or all failed).
    for (const t of this.threads) t.port.hold(true);
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

  readyBlob(kind: 'float32' | 'int32', length: number): BlobData | null {
    const ready = this.memory?.readyBlob(kind, length) ?? null;
    if (ready) this.readyTaken++;
    return ready;
  }

  expect(byteLengths: readonly number[]): void {
    this.memory?.expect(byteLengths);
  }

  captureEnded(): void {
    this.memory?.captureEnded();
  }

  /** Bytes of memory ready for the next capture's copies. */
  get readyMemoryBytes(): number {
    return this.memory?.heldBytes ?? 0;
  }

  memoryReady(timeoutMs?: number): Promise<void> {
    return this.memory?.idle(timeoutMs) ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await Promise.all([this.closeThreads(), this.memory?.close()]);
  }

  private async closeThreads(): Promise<void> {
    this.closed = true;
    this.drainHere();
    for (const w of this.readyWaiters.splice(0)) w(false);
    const threads = this.threads.splice(0);
    for (const t of threads) this.fail(t, 'the statistics pool was closed');
    await Promise.all(threads.map((t) => t.port.terminate().catch(() => undefined)));
  }

  private onMessage(t: Thread, m: StatsFromWorker): void {
    if ('ready' in m) {
      t.ready = true;
      for (const w of this.readyWaiters.splice(0)) w(true);
      for (const u of this.threads) if (u.inFlight.size === 0) u.port.hold(false);
      this.pump();
      return;
    }
    const job = t.inFlight.get(m.id);
    if (!job) return;
    t.inFlight.delete(m.id);
    t.load -= (m.data ?? job.data).length;
    if (t.inFlight.size === 0) t.port.hold(false);
    if ('error' in m) job.reject(new Error(`statistics worker: ${m.error}`));
    else job.resolve({ stats: m.stats, data: m.data ?? job.data });
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
      t.port.hold(true);
      this.sent++;
      t.port.post({ id: job.id, data: job.data, bins: job.bins }, isSharedBlob(job.data) ? [] : [job.data.buffer as ArrayBuffer]);
    }
  }

  /**
   * While no thread is up yet (a thread loads its kernel first, and tsx in Node: seconds on a busy
   * machine), the calling thread takes the oldest waiting job, one per turn of the event loop, so the
   * capture is not held up by the threads' start and a thread that becomes ready takes the rest.
   */
  private help(): void {
    if (this.helping) return;
    this.helping = true;
    this.later(() => {
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
