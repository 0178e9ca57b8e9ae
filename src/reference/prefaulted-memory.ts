/**
 * Shared memory whose pages are already in place, made on a thread of its own, for the copies a
 * capture makes on the inference thread (NodeStatsPool.sharedBlob). New memory costs a page fault at
 * the first write of each 4 KiB page: copying a MobileNetV2 layers capture (91 MB) into new shared
 * arrays took 11.8 ms, into arrays whose pages another thread had touched 5.6 ms, the same as into
 * reused arrays (6.0 ms; scratch run, 2-core VM, side by side). The faults are the kernel's work, and
 * they are paid by the thread that touches the page first: here, a thread that is idle while the model
 * runs.
 *
 * The supply follows demand: the buffers a capture took are made again once it is over (the capture
 * says so, `captureEnded`, when its statistics are all back: the pool's threads are then idle), so a
 * model captured again finds every copy's buffer ready; buffers a capture did not take are dropped.
 * Bounded by `maxBytes`. A take with no ready buffer of its size returns null (the caller allocates
 * as before): nothing waits for this.
 * Memory is made ready from the second capture on: a process that captured once (`exray trace`) may
 * never capture again, and would hold a capture's worth of memory for nothing.
 */
import { Worker } from 'node:worker_threads';

/** The thread's body (CommonJS, evaluated: no file to find in a bundle or from sources). */
const BODY = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (lengths) => {
  const made = [];
  for (const n of lengths) {
    const buffer = new SharedArrayBuffer(n);
    const bytes = new Uint8Array(buffer);
    // One write per page makes the kernel map it (a read would map the shared zero page).
    for (let i = 0; i < n; i += 4096) bytes[i] = 0;
    made.push(buffer);
  }
  parentPort.postMessage(made);
});
`;

export interface PrefaultedMemoryOptions {
  /** The most memory held ready (default 128 MiB; a MobileNetV2 layers capture takes 88 MB): a capture that took more is made again up to it. */
  maxBytes?: number;
}

export class PrefaultedMemory {
  private readonly maxBytes: number;
  private worker: Worker | null = null;
  private failed = false;
  private closed = false;
  /** Ready buffers by byte length. */
  private readonly ready = new Map<number, SharedArrayBuffer[]>();
  private readyBytes = 0;
  /** Byte lengths taken since the last captureEnded (hits and misses alike: what the next capture will want). */
  private taken: number[] = [];
  /** Captures ended. */
  private captures = 0;
  /** Refills asked for and not yet answered. */
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: PrefaultedMemoryOptions = {}) {
    this.maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  }

  /**
   * A ready SharedArrayBuffer of exactly `byteLength` bytes (contents unspecified: the caller
   * overwrites them), or null when none is ready.
   */
  take(byteLength: number): SharedArrayBuffer | null {
    if (this.closed) return null;
    this.taken.push(byteLength);
    const hit = this.ready.get(byteLength)?.pop();
    if (hit === undefined) return null;
    this.readyBytes -= byteLength;
    return hit;
  }

  /** Resolves once no refill is under way (benchmarks wait for it between samples, as an app's idle time would). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Bytes held ready. */
  get heldBytes(): number {
    return this.readyBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready.clear();
    this.readyBytes = 0;
    this.pending = 0;
    this.wake();
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate().catch(() => undefined);
  }

  /** The capture that took buffers since the last call is over: make them again for the next one. */
  captureEnded(): void {
    if (this.closed) return;
    const lengths = this.taken;
    this.taken = [];
    if (++this.captures < 2 || lengths.length === 0) return;
    // What the last capture did not take is not what the next one will: let it go.
    this.ready.clear();
    this.readyBytes = 0;
    let bytes = 0;
    const wanted: number[] = [];
    for (const n of lengths) {
      if (bytes + n > this.maxBytes) break;
      bytes += n;
      wanted.push(n);
    }
    const worker = this.thread();
    if (worker === null || wanted.length === 0) return;
    this.pending++;
    worker.ref();
    worker.postMessage(wanted);
  }

  private thread(): Worker | null {
    if (this.worker !== null || this.failed || this.closed) return this.worker;
    try {
      const w = new Worker(BODY, { eval: true, name: 'exray-memory' });
      w.on('message', (made: SharedArrayBuffer[]) => this.received(made));
      w.on('error', () => this.lost());
      w.on('exit', () => this.lost());
      w.unref();
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  private received(made: SharedArrayBuffer[]): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) this.worker?.unref();
    if (this.closed) return;
    for (const b of made) {
      if (this.readyBytes + b.byteLength > this.maxBytes) break;
      let list = this.ready.get(b.byteLength);
      if (!list) this.ready.set(b.byteLength, (list = []));
      list.push(b);
      this.readyBytes += b.byteLength;
    }
    this.wake();
  }

  private lost(): void {
    if (this.worker === null) return;
    this.worker = null;
    this.failed = true;
    this.pending = 0;
    this.wake();
  }

  private wake(): void {
    if (this.pending > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
