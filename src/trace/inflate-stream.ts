/**
 * Raw deflate inflated by the platform's DecompressionStream('deflate-raw') (browsers, workers; Node
 * has it too): native zlib instead of fflate's JavaScript, for decodeTraceAsync (file.ts). In the
 * viewer's trace reader, a cold worker inflating the 1,000 blobs (~3 KB → 16 KB) of a trace: ~150 ms
 * against ~220-450 ms for fflate (Chromium, 2 busy cores). Pure: no DOM, no Node.
 */
import { InflateOverflow } from './blob-codec.ts';

/**
 * Input is written in pieces of this size: the stream inflates one written chunk per pull, all of it,
 * so an entry that lies about its size costs at most one piece's expansion (deflate: ≤ 1,032×) past its limit.
 */
const PIECE = 16 * 1024;

/** Whether this platform has a DecompressionStream that takes 'deflate-raw' (current browsers; Node 20 here). */
export function streamInflateAvailable(): boolean {
  try {
    new DecompressionStream('deflate-raw');
    return true;
  } catch {
    return false;
  }
}

/**
 * The bytes raw deflate `data` inflates to, into a buffer of `limit` bytes allocated first; rejects
 * with InflateOverflow as soon as more arrive, with the stream's error for data that is not deflate
 * (or has bytes after its end). An AsyncRawInflate (file.ts).
 */
export async function streamInflateRaw(data: Uint8Array, limit: number): Promise<Uint8Array> {
  // Streams take no view of a SharedArrayBuffer; decodeTraceAsync inflates such an entry with fflate.
  if (!(data.buffer instanceof ArrayBuffer)) throw new TypeError('a DecompressionStream cannot read shared memory');
  const input = data as Uint8Array<ArrayBuffer>;
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  // Not awaited: the reads below pull the pieces through; a failure shows on the reader.
  for (let p = 0; p < input.length; p += PIECE) writer.write(input.subarray(p, Math.min(input.length, p + PIECE))).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const out = new Uint8Array(limit);
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n === limit ? out : out.subarray(0, n);
    if (n + value.length > limit) {
      reader.cancel().catch(() => {});
      throw new InflateOverflow();
    }
    out.set(value, n);
    n += value.length;
  }
}
