/**
 * Raw deflate inflated by Node's zlib (native) for the trace reader (DecodeOptions.inflateRaw,
 * blob-codec.ts RawInflate): ~2× fflate on the blobs of a 1,000-node trace. zlib stops at
 * maxOutputLength itself, so an entry that lies about its size costs no more than its declared size.
 */
import { inflateRawSync } from 'node:zlib';
import { InflateOverflow, type RawInflate } from '../trace/blob-codec.ts';
import { decodeTrace, type DecodeOptions } from '../trace/file.ts';
import type { Trace } from '../trace/types.ts';

export const zlibInflateRaw: RawInflate = (data, limit) => {
  try {
    // One output chunk of limit + 1 bytes: the result starts its own buffer (smaller chunks come back
    // as views into Node's shared pool, which inflateEntry would have to copy).
    return inflateRawSync(data, { maxOutputLength: Math.max(1, limit), chunkSize: Math.max(64, limit + 1) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new InflateOverflow();
    throw e;
  }
};

/** decodeTrace with Node's native inflater: what every Node reader of a whole trace calls. */
export function decodeTraceNode(bytes: Uint8Array, fileName: string, options: DecodeOptions = {}): Trace {
  return decodeTrace(bytes, fileName, { inflateRaw: zlibInflateRaw, ...options });
}
