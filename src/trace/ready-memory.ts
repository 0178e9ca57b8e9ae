/**
 * Memory made ready for a capture's copies, its pages touched on a thread of its own (a capture's
 * `memory` option, or a StatsPool's: stats-pool-threads.ts `readyBlob`). New memory costs a page fault at the first write of each 4 KiB
 * page, paid by the thread that writes first. Copying a MobileNetV2 capture's 41 MB into new arrays
 * took 119 ms on a page's thread in Chromium, 2.1 ms into arrays a worker had touched and transferred
 * (2.4 ms into reused ones); in Node, 91 MB into new shared arrays 11.8 ms, into touched ones 5.6 ms
 * (scratch runs, 2-core VM, side by side). Here that thread is one that is idle while the model runs.
 *
 * The supply follows demand, bounded by `maxBytes`:
 * - `expect`: a capture about to run says which buffers it will copy into (from the timing pass's
 *   shapes), so they are made while the timing passes run;
 * - `captureEnded`: the buffers a capture took are made again for the next one, once its statistics
 *   are all back (the threads are then idle), from the second capture on: a process that captured
 *   once (`exray trace`) may never capture again, and would hold a capture's worth of memory for
 *   nothing. Buffers the last capture did not take are dropped.
 * A take with no ready buffer of its size returns null (the caller allocates as before).
 * Pure: the thread is the subclass's (Node: src/reference/ready-memory-node.ts; the page:
 * src/viewer/worker/ready-memory-web.ts).
 */

import type { BlobData } from './types.ts';

/**
 * Memory a capture copies node values into: a ReadyMemory, or a StatsPool that holds one (its
 * `readyBlob`). The capture says what it will copy (`expect`), waits a bounded time for it
 * (`memoryReady`), takes it copy by copy (`readyBlob`) and says when it is over (`captureEnded`).
 */
export interface CaptureMemory {
  /** An array of exactly `length` elements, its pages touched, or null when none is ready (the caller allocates). */
  readyBlob(kind: 'float32' | 'int32', length: number): BlobData | null;
  expect(byteLengths: readonly number[]): void;
  /** Resolves once nothing asked for is still being made, or after `timeoutMs` (default: no bound). */
  memoryReady(timeoutMs?: number): Promise<void>;
  captureEnded(): void;
}

/** The thread that makes buffers, as ReadyMemory drives it. */
export interface MemoryMaker {
  /** Make a buffer of each byte length, writing once in each page; answered by one `made`, in order. */
  make(byteLengths: number[]): void;
  /** Whether the thread should keep its process alive (Node: ref / unref; nothing on the web). */
  hold(busy: boolean): void;
  terminate(): Promise<void>;
}

/** What the thread reports. */
export interface MemoryMakerEvents {
  made(buffers: ArrayBufferLike[]): void;
  /** It ended or could not start: nothing more is made. */
  gone(): void;
}

export interface ReadyMemoryOptions {
  /** The most memory held ready or being made (default 128 MiB; a MobileNetV2 layers capture takes 88 MB). */
  maxBytes?: number;
}

export abstract class ReadyMemory implements CaptureMemory {
  private readonly maxBytes: number;
  private maker: MemoryMaker | null = null;
  private failed = false;
  private closed = false;
  /** Ready buffers by byte length. */
  private readonly ready = new Map<number, ArrayBufferLike[]>();
  private readyBytes = 0;
  /** Bytes asked of the thread and not yet made. */
  private makingBytes = 0;
  /** Arrays given out so far (readyBlob hits). */
  given = 0;
  /** Byte lengths taken since the last captureEnded (hits and misses alike: what the next capture will want). */
  private taken: number[] = [];
  /** Captures ended. */
  private captures = 0;
  /** Requests sent and not yet answered. */
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: ReadyMemoryOptions = {}) {
    this.maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
  }

  /** Start the thread (null when it cannot start here); it reports through `events`. */
  protected abstract spawn(events: MemoryMakerEvents): MemoryMaker | null;

  /**
   * A ready buffer of exactly `byteLength` bytes (contents unspecified: the caller overwrites them),
   * or null when none is ready.
   */
  take(byteLength: number): ArrayBufferLike | null {
    if (this.closed) return null;
    this.taken.push(byteLength);
    const hit = this.ready.get(byteLength)?.pop();
    if (hit === undefined) return null;
    this.readyBytes -= byteLength;
    return hit;
  }

  /** `take` as an array of `kind` (4-byte elements). */
  readyBlob(kind: 'float32' | 'int32', length: number): BlobData | null {
    const buffer = this.take(length * 4);
    if (buffer === null) return null;
    this.given++;
    return kind === 'int32' ? new Int32Array(buffer) : new Float32Array(buffer);
  }

  memoryReady(timeoutMs?: number): Promise<void> {
    return this.idle(timeoutMs);
  }

  /**
   * A capture that will take buffers of these byte lengths is about to run: make those that are not
   * ready, as far as `maxBytes` allows.
   */
  expect(byteLengths: readonly number[]): void {
    if (this.closed) return;
    const spare = new Map<number, number>();
    for (const [n, list] of this.ready) spare.set(n, list.length);
    const wanted: number[] = [];
    let room = this.maxBytes - this.readyBytes - this.makingBytes;
    for (const n of byteLengths) {
      const s = spare.get(n) ?? 0;
      if (s > 0) {
        spare.set(n, s - 1);
        continue;
      }
      if (n <= 0 || n > room) continue;
      room -= n;
      wanted.push(n);
    }
    this.make(wanted);
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
    let bytes = this.makingBytes;
    const wanted: number[] = [];
    for (const n of lengths) {
      if (bytes + n > this.maxBytes) break;
      bytes += n;
      wanted.push(n);
    }
    this.make(wanted);
  }

  /**
   * Resolves once nothing asked for is still being made, or after `timeoutMs` (default: no bound);
   * a capture waits here so that its copies find their memory ready.
   */
  idle(timeoutMs?: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
      if (timeoutMs !== undefined) timer = setTimeout(done, Math.max(0, timeoutMs));
    });
  }

  /** Bytes held ready. */
  get heldBytes(): number {
    return this.readyBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready.clear();
    this.readyBytes = 0;
    this.makingBytes = 0;
    this.pending = 0;
    this.wake();
    const m = this.maker;
    this.maker = null;
    if (m) await m.terminate().catch(() => undefined);
  }

  private make(byteLengths: number[]): void {
    if (byteLengths.length === 0) return;
    const maker = this.thread();
    if (maker === null) return;
    this.pending++;
    for (const n of byteLengths) this.makingBytes += n;
    maker.hold(true);
    maker.make(byteLengths);
  }

  private thread(): MemoryMaker | null {
    if (this.maker !== null || this.failed || this.closed) return this.maker;
    // Events arrive on later turns, once the maker is in place.
    const events: MemoryMakerEvents = { made: (b) => this.received(b), gone: () => this.lost() };
    try {
      this.maker = this.spawn(events);
    } catch {
      this.maker = null;
    }
    if (this.maker === null) this.failed = true;
    else this.maker.hold(false);
    return this.maker;
  }

  private received(made: ArrayBufferLike[]): void {
    if (this.pending === 0) return;
    this.pending--;
    if (this.pending === 0) {
      this.maker?.hold(false);
      this.makingBytes = 0;
    }
    for (const b of made) {
      this.makingBytes = Math.max(0, this.makingBytes - b.byteLength);
      if (this.closed || this.readyBytes + b.byteLength > this.maxBytes) continue;
      let list = this.ready.get(b.byteLength);
      if (!list) this.ready.set(b.byteLength, (list = []));
      list.push(b);
      this.readyBytes += b.byteLength;
    }
    this.wake();
  }

  private lost(): void {
    if (this.maker === null) return;
    this.maker = null;
    this.failed = true;
    this.pending = 0;
    this.makingBytes = 0;
    this.wake();
  }

  private wake(): void {
    if (this.pending > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
