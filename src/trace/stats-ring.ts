/**
 * Statistics computed on another thread while a synchronous run goes on, their answers read through
 * shared memory as each node ends. A StatsPool answers by message, and a run that never yields reads
 * no message until it ends: its rows all arrive then. Here the inference thread copies each output
 * into a ring of shared memory (a memcpy, the pages touched beforehand by the worker) and goes on; one
 * worker computes the statistics in place (the kernels bound to that memory) and writes them into the
 * job's slot; the capture polls the slots at each node's end and hands on every node whose statistics
 * are back, in order. This is the inference thread's side; the worker's is stats-ring-worker.ts, the
 * memory both read stats-ring-layout.ts. Pure: the threads are the caller's (the page:
 * src/viewer/worker/stats-ring-web.ts; Node's captures use a StatsPool, read after the run).
 *
 * What it never does: wait for room. A job that does not fit (ring or slot table full, the worker not
 * ready, an array larger than half the ring, more bins than a slot holds) is refused and the caller
 * computes the statistics itself, as it would without a ring. A worker that is gone or silent for
 * RING_TIMEOUT_MS is given up: the jobs it left are computed here, from the ring, where they still lie.
 *
 * A capture that keeps every value (`tensors`) would copy each output twice: into the ring for its
 * statistics, and into an array of its own for the trace. The ring is also its CaptureMemory: past
 * the data area, the memory grows by what the capture will keep (`expect`, from the timing pass's
 * shapes), the worker touches the new pages while the timing passes run, and `readyBlob` hands out
 * arrays there that are never written again. A job submitted from such an array is not copied: the
 * worker computes its statistics where it lies, so each output is copied once. Those arrays are views
 * of shared memory, posted to the page without a copy.
 */
import { computeStats } from './stats.ts';
import { C_CLOSED, C_DONE, C_READY, C_SUBMITTED, C_TOUCHED, C_WANT, CTRL_WORDS, DATA, decode, DESCRIPTORS, RESULTS, RESULT_WORDS, ring, RING_MAX_BINS, SLOTS } from './stats-ring-layout.ts';
import type { CaptureMemory } from './ready-memory.ts';
import type { BlobData, TensorStats } from './types.ts';

export { closeStatsRing, RING_DEFAULT_BYTES, RING_MAX_BINS, ringPages } from './stats-ring-layout.ts';

/** How long a capture waits for an answer before it gives the worker up and computes them itself. */
export const RING_TIMEOUT_MS = 5000;

/** What a capture pass asks of a ring (passes.ts `statsRing`); one capture at a time. */
export interface PolledStats {
  /**
   * Copy `values` into the ring for their statistics (not copied: an array the ring's `readyBlob`
   * handed out): a ticket, or null when it cannot take them now (compute them yourself).
   */
  submit(values: Float32Array, bins: number): number | null;
  /** The statistics of `ticket` if they are back (or computed here, the worker given up), else undefined. Never blocks. */
  poll(ticket: number): TensorStats | undefined;
  /** The statistics of `ticket`, once back (at most RING_TIMEOUT_MS, then computed here). */
  wait(ticket: number): Promise<TensorStats>;
  /** A capture starts: tickets a failed one left are never read, their slots free again. */
  forget(): void;
}

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<unknown> | string };

/**
 * The inference thread's side. `memory`: shared, ringPages() pages (a maximum above them lets it keep
 * values: readyBlob), served by serveStatsRing on one worker.
 */
export class StatsRing implements PolledStats, CaptureMemory {
  private readonly ctrl: Int32Array;
  private readonly desc: Int32Array;
  private readonly results: Float64Array;
  private readonly data: Float32Array;
  /** Next ticket. */
  private seq = 0;
  /** Lowest ticket not yet read here. */
  private read = 0;
  /** Next free offset (in floats) of the data area. */
  private head = 0;
  private why: string | null = null;
  /** Jobs in flight in the data area, oldest first (the room they hold cannot be written). */
  private readonly inRing: { ticket: number; at: number }[] = [];
  /** Where kept arrays start (bytes): the memory's end when the ring was made. */
  private readonly keptStart: number;
  /** Next free byte for kept arrays. */
  private keptHead: number;
  /** Arrays readyBlob handed out: submitted, they are read where they lie. */
  private readonly kept = new WeakSet<object>();
  /** Bytes readyBlob was asked for since the last captureEnded, and whether any found no room. */
  private asked = 0;
  private missed = false;
  /** Jobs taken by the ring (for tests and benchmarks). */
  submitted = 0;
  /** Arrays handed out by readyBlob (for tests and benchmarks). */
  given = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** How long `wait` waits for an answer before giving the worker up. */
    private readonly timeoutMs = RING_TIMEOUT_MS,
  ) {
    const buf = memory.buffer as ArrayBufferLike as SharedArrayBuffer;
    if (typeof SharedArrayBuffer === 'undefined' || !((buf as unknown) instanceof SharedArrayBuffer)) throw new Error('stats ring: its memory must be shared');
    if (buf.byteLength <= DATA) throw new Error(`stats ring: ${buf.byteLength} bytes of memory, fewer than its header (${DATA})`);
    this.ctrl = new Int32Array(buf, 0, CTRL_WORDS);
    this.desc = new Int32Array(buf, DESCRIPTORS, SLOTS * 4);
    this.results = new Float64Array(buf, RESULTS, SLOTS * RESULT_WORDS);
    this.data = new Float32Array(buf, DATA, (buf.byteLength - DATA) >> 2);
    this.seq = this.read = Atomics.load(this.ctrl, C_SUBMITTED);
    this.keptStart = this.keptHead = buf.byteLength;
  }

  /** Why the worker was given up (its jobs are computed here since), or null. */
  get givenUp(): string | null {
    return this.why;
  }

  /**
   * Whether the worker is up (its memory touched, taking jobs) within `timeoutMs`; false once it is
   * given up. Polled: the worker says so in shared memory, not by message.
   */
  async whenReady(timeoutMs = 15_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.why === null && Atomics.load(this.ctrl, C_READY) !== 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.why === null && Atomics.load(this.ctrl, C_READY) === 1;
  }

  /** The worker is gone (its error event) or must stop: every job left is computed here. */
  giveUp(why: string): void {
    if (this.why === null) this.why = why;
    Atomics.store(this.ctrl, C_CLOSED, 1);
    ring(this.ctrl);
  }

  submit(values: Float32Array, bins: number): number | null {
    if (this.why !== null || bins > RING_MAX_BINS || bins < 1 || values.length === 0) return null;
    if (Atomics.load(this.ctrl, C_READY) !== 1 || Atomics.load(this.ctrl, C_CLOSED) === 1) return null;
    const done = Atomics.load(this.ctrl, C_DONE);
    if (this.seq - this.read >= SLOTS || this.seq - done >= SLOTS) return null;
    let at: number;
    if (this.kept.has(values)) at = (values.byteOffset - DATA) >> 2; // read where it lies (16-byte aligned)
    else {
      at = this.place(values.length, done);
      if (at < 0) return null;
      this.data.set(values, at);
    }
    const ticket = this.seq;
    const d = (ticket % SLOTS) * 4;
    this.desc[d] = at;
    this.desc[d + 1] = values.length;
    this.desc[d + 2] = bins;
    this.seq = ticket + 1;
    this.submitted++;
    Atomics.store(this.ctrl, C_SUBMITTED, this.seq);
    ring(this.ctrl);
    return ticket;
  }

  /** Where in the data area (floats) a job of `length` values goes, or -1 when there is no room now. */
  private place(length: number, done: number): number {
    // Each job starts 16-byte aligned (the kernels' vectors).
    const floats = (length + 3) & ~3;
    const cap = this.data.length;
    if (floats > cap >> 1) return -1;
    while (this.inRing.length > 0 && this.inRing[0]!.ticket < done) this.inRing.shift();
    let at: number;
    if (this.inRing.length === 0) at = 0; // nothing in flight here: start over
    else {
      // Jobs in flight lie in [tail, head), or [tail, cap) and [0, head) once wrapped. Wrapped, head
      // stays below tail (strictly: head = tail would read as nothing in flight).
      const tail = this.inRing[0]!.at;
      if (this.head > tail) at = this.head + floats <= cap ? this.head : floats < tail ? 0 : -1;
      else at = this.head + floats < tail ? this.head : -1;
    }
    if (at < 0) return -1;
    this.head = at + floats;
    this.inRing.push({ ticket: this.seq, at });
    return at;
  }

  poll(ticket: number): TensorStats | undefined {
    // A slot holds the newest SLOTS jobs' answers; older tickets' slots may hold newer answers.
    if (ticket < this.seq - SLOTS || ticket >= this.seq) throw new Error(`stats ring: no job ${ticket}`);
    let stats: TensorStats;
    if (Atomics.load(this.ctrl, C_DONE) > ticket) stats = decode(this.results, (ticket % SLOTS) * RESULT_WORDS);
    else if (this.why !== null) {
      // Never overwritten: nothing is submitted once the worker is given up (the memory may have grown since `data` was made).
      const d = (ticket % SLOTS) * 4;
      stats = computeStats(new Float32Array(this.memory.buffer, DATA + this.desc[d]! * 4, this.desc[d + 1]!), this.desc[d + 2]!);
    } else return undefined;
    if (ticket >= this.read) this.read = ticket + 1;
    return stats;
  }

  /**
   * An array of `length` elements in memory that is the caller's from now on (past the data area),
   * or null when the memory has no room left. Its float32 arrays are submitted without a copy.
   */
  readyBlob(kind: 'float32' | 'int32', length: number): BlobData | null {
    const bytes = (length * 4 + 15) & ~15;
    this.asked += bytes;
    const buf = this.memory.buffer;
    if (length === 0 || this.keptHead + bytes > buf.byteLength) {
      this.missed = true;
      return null;
    }
    const out = kind === 'int32' ? new Int32Array(buf, this.keptHead, length) : new Float32Array(buf, this.keptHead, length);
    this.keptHead += bytes;
    this.kept.add(out);
    this.given++;
    return out;
  }

  /** A capture that keeps arrays of these byte lengths is about to run: grow the memory for them, its new pages touched by the worker. */
  expect(byteLengths: readonly number[]): void {
    let bytes = 0;
    for (const n of byteLengths) bytes += (n + 15) & ~15;
    this.reserve(this.keptHead + bytes);
  }

  /** Resolves once the worker has touched every page grown for kept arrays, given up, or after `timeoutMs`. */
  async memoryReady(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.why === null && !this.keptMemoryReady && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A capture is over. One that found no room (no `expect` before it) leaves room for as much again, for the next (after `recycle`). */
  captureEnded(): void {
    if (this.missed) this.reserve(this.keptStart + this.asked);
    this.asked = 0;
    this.missed = false;
  }

  /**
   * Nobody uses the arrays readyBlob handed out any more (a benchmark between captures): hand out
   * their memory again. A page that holds a trace's values never calls it; its ring is its run's.
   */
  recycle(): void {
    this.keptHead = this.keptStart;
  }

  /** Whether the worker has touched every page grown so far for kept arrays. */
  get keptMemoryReady(): boolean {
    return Atomics.load(this.ctrl, C_TOUCHED) >= Atomics.load(this.ctrl, C_WANT);
  }

  /** Bytes of memory kept arrays may use (grown so far). */
  get keptBytes(): number {
    return this.memory.buffer.byteLength - this.keptStart;
  }

  /** Grow the memory to end at `end` bytes, as far as its maximum allows, and ask the worker to touch the new pages. */
  private reserve(end: number): void {
    let left = Math.ceil((end - this.memory.buffer.byteLength) / 65536);
    if (left <= 0) return;
    for (let step = left; left > 0 && step > 0; ) {
      try {
        this.memory.grow(Math.min(step, left));
        left -= Math.min(step, left);
      } catch {
        step >>= 1; // its maximum: take what is left
      }
    }
    Atomics.store(this.ctrl, C_WANT, this.memory.buffer.byteLength / 65536);
    ring(this.ctrl);
  }

  async wait(ticket: number): Promise<TensorStats> {
    const until = Date.now() + this.timeoutMs;
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    for (;;) {
      const s = this.poll(ticket);
      if (s) return s;
      const left = until - Date.now();
      if (left <= 0) {
        this.giveUp(`no statistics from its worker in ${this.timeoutMs} ms`);
        continue;
      }
      const done = Atomics.load(this.ctrl, C_DONE);
      if (done > ticket) continue;
      const w = waitAsync?.(this.ctrl, C_DONE, done, Math.min(left, 50));
      if (w?.async) await w.value;
      else if (!w) await new Promise((r) => setTimeout(r, 1));
    }
  }

  forget(): void {
    this.read = this.seq;
  }
}
