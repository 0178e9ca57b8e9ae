/**
 * Node's zlib (native) for the trace codec's two hot loops, in place of the portable JavaScript:
 * - raw deflate inflated for the reader (DecodeOptions.inflateRaw, blob-codec.ts RawInflate): ~2×
 *   fflate on the blobs of a 1,000-node trace. zlib stops at maxOutputLength itself, so an entry that
 *   lies about its size costs no more than its declared size;
 * - the CRC-32 every entry is checked against on read and stamped with on write (DecodeOptions /
 *   EncodeOptions / TraceStreamWriterOptions `crc32`): zlib's runs at 2.4–3.2 GB/s here against
 *   0.74–0.95 GB/s for blob-codec.ts's slicing-by-8, which was a third of a lossless read's time.
 */
import { crc32 as zlibCrc32Of, inflateRawSync } from 'node:zlib';
import { InflateOverflow, type Crc32, type RawInflate } from '../trace/blob-codec.ts';
import { decodeTrace, type DecodeOptions } from '../trace/file.ts';
import { encodeTrace, type EncodeOptions } from '../trace/file-writer.ts';
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

/** zlib's CRC-32 (Node ≥ 20.15): the same unsigned checksum as blob-codec.ts crc32. */
export const zlibCrc32: Crc32 = (data) => zlibCrc32Of(data);

/** decodeTrace with Node's native inflater and CRC-32: what every Node reader of a whole trace calls. */
export function decodeTraceNode(bytes: Uint8Array, fileName: string, options: DecodeOptions = {}): Trace {
  return decodeTrace(bytes, fileName, { inflateRaw: zlibInflateRaw, crc32: zlibCrc32, ...options });
}

/** encodeTrace with Node's native CRC-32: what Node writers of a whole trace call. */
export function encodeTraceNode(trace: Trace, options: EncodeOptions = {}): Uint8Array<ArrayBuffer> {
  return encodeTrace(trace, { crc32: zlibCrc32, ...options });
}
