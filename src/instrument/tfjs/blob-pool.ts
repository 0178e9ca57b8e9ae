/**
 * Reusable buffers for captured node values. A capture copies every node's output once; allocating a
 * fresh array for each (88 MB per MobileNetV2 layers inference) costs more than the copy itself, in
 * new pages and garbage collection: on a 2-core VM, reading back into fresh arrays took longer than
 * the inference. A consumer that is done with a blob (written to a file, sent, compared) gives it
 * back with `release`, and the next capture copies into it instead. Nothing is reused behind a
 * consumer's back: a buffer comes back only through `release`.
 */
import type { BlobData } from '../../trace/types.ts';
import { isSharedBlob } from '../../trace/stats-pool-threads.ts';

export class BlobPool {
  private readonly free = new Map<string, BlobData[]>();
  private bytes = 0;

  /** `maxBytes`: the most this pool keeps for reuse; buffers released beyond it are left to the GC. */
  constructor(readonly maxBytes: number = 512 * 1024 * 1024) {}

  /**
   * A Float32Array / Int32Array of `length` elements with unspecified contents: the caller overwrites
   * it. `shared`: over a SharedArrayBuffer (for a StatsPool that sharesMemory).
   */
  take(kind: 'float32' | 'int32', length: number, shared = false): BlobData {
    const list = this.free.get(keyOf(kind, length, shared));
    const hit = list?.pop();
    if (hit) {
      this.bytes -= hit.byteLength;
      return hit;
    }
    return newBlob(kind, length, shared);
  }

  /** A copy of `values` in a pooled buffer. */
  copyOf(values: Float32Array | Int32Array, shared = false): BlobData {
    const out = this.take(values instanceof Int32Array ? 'int32' : 'float32', values.length, shared);
    out.set(values);
    return out;
  }

  /**
   * Give buffers back for reuse. The caller must hold no other reference it still reads: the next
   * capture overwrites them. Detached buffers (transferred elsewhere) are ignored.
   */
  release(...blobs: BlobData[]): void {
    for (const b of blobs) {
      if (b.byteLength === 0 || b.byteOffset !== 0 || b.buffer.byteLength !== b.byteLength) continue;
      if (this.bytes + b.byteLength > this.maxBytes) continue;
      const key = keyOf(b instanceof Int32Array ? 'int32' : 'float32', b.length, isSharedBlob(b));
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      if (list.includes(b)) continue;
      list.push(b);
      this.bytes += b.byteLength;
    }
  }

  /** Bytes held for reuse. */
  get heldBytes(): number {
    return this.bytes;
  }
}

function keyOf(kind: 'float32' | 'int32', length: number, shared: boolean): string {
  return `${kind}:${length}${shared ? ':shared' : ''}`;
}

/**
 * A new zeroed array of `length` elements; `shared` (where SharedArrayBuffer exists): over shared
 * memory, which another thread reads without a transfer. Also cheaper to get than fresh unshared
 * memory in Node 20: copying a MobileNetV2 layers capture (87 MB) into new arrays took 1.36× a plain
 * run in shared memory against 1.71× in `slice()`s (bench scratch runs, 2-core VM, side by side).
 */
export function newBlob(kind: 'float32' | 'int32', length: number, shared = false): BlobData {
  if (shared && typeof SharedArrayBuffer !== 'undefined') {
    const buf = new SharedArrayBuffer(length * 4);
    return kind === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
  }
  return kind === 'int32' ? new Int32Array(length) : new Float32Array(length);
}
