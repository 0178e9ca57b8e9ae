/** Reading and writing trace files and JSON outputs from the CLI (Node). */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ExrayInputError } from '../errors.ts';
import { writeOutputFile } from '../io/outputs.ts';
import { LIMIT_ENV, checkLimit, limits } from '../limits.ts';
import { kindOf, readInputBytes } from '../read-input.ts';
import { decodeTrace, decodeTraceHeader, type DecodeOptions, type LazyTrace } from '../trace/file.ts';
import { type EncodeOptions } from '../trace/file-writer.ts';
import { type ByteSource } from '../trace/zip-directory.ts';
import type { StoragePrecision } from '../trace/blob-codec.ts';
import type { Trace } from '../trace/types.ts';
import { encodeTraceNode, zlibCrc32, zlibInflateRaw } from '../io/zlib-native.ts';

/** A regular file within EXRAY_MAX_FILE_BYTES, whole (see src/read-input.ts). */
export async function readInputFile(path: string): Promise<Uint8Array> {
  return readInputBytes(path);
}

/** The trace-reader caps of src/limits.ts, and Node's native inflater and CRC-32 (zlib-native.ts). */
export function traceDecodeOptions(): DecodeOptions {
  const l = limits();
  return {
    inflateRaw: zlibInflateRaw,
    crc32: zlibCrc32,
    maxUncompressedBytes: l.traceBytes,
    maxBlobBytes: l.blobBytes,
    maxHeaderBytes: l.headerBytes,
    maxNodes: l.nodes,
    limitHints: { uncompressed: LIMIT_ENV.traceBytes, blob: LIMIT_ENV.blobBytes, header: LIMIT_ENV.headerBytes, nodes: LIMIT_ENV.nodes },
  };
}

export async function readTrace(path: string): Promise<Trace> {
  return decodeTrace(await readInputFile(path), path, traceDecodeOptions());
}

/**
 * A trace's header with its blobs left in the file (inflated by `readBlob` on demand): reads the zip
 * directory and header.json only, so a trace of any size costs its header. Call `close()` when done.
 */
export function openTraceLazy(path: string): LazyTrace & { close(): void } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExrayInputError(path, code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (e as Error).message);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new ExrayInputError(path, `is ${kindOf(s)}, expected a regular file`);
    checkLimit(path, 'fileBytes', s.size, 'file size', { bytes: true });
    const src: ByteSource = {
      size: s.size,
      read(offset, length) {
        const out = new Uint8Array(Math.max(0, Math.min(length, s.size - offset)));
        let done = 0;
        while (done < out.length) {
          const n = readSync(fd, out, done, out.length - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return done === out.length ? out : out.subarray(0, done);
      },
    };
    return { ...decodeTraceHeader(src, path, traceDecodeOptions()), close: () => closeSync(fd) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** A trace for readers that need only its header (inspect, latency): `blobs` is empty. */
export function readTraceHeaderOnly(path: string): Trace {
  const lazy = openTraceLazy(path);
  lazy.close();
  return { header: lazy.header, blobs: new Map() };
}

/**
 * Atomic (src/io/atomic.ts): a failure (disk full) or an interrupt leaves the previous file at `path`
 * as it was, and no temp file; the error names the file (src/io/outputs.ts).
 */
export async function writeOutput(path: string, data: Uint8Array | string): Promise<void> {
  await writeOutputFile(path, data);
}

export async function writeTrace(path: string, trace: Trace, opts: EncodeOptions = {}): Promise<void> {
  await writeOutput(path, encodeTraceNode(trace, opts));
}

/**
 * `--precision float16|bfloat16` for a trace the streaming writer has already written (it stores
 * values exact): read back, written again narrowed, atomically. Returns the trace as stored. The whole
 * trace is in memory meanwhile, until the streaming writer narrows blobs itself (encodeBlob).
 */
export async function rewriteNarrowed(path: string, precision: StoragePrecision): Promise<Trace> {
  const stored = await readTrace(path);
  if (precision === 'float32') return stored;
  await writeTrace(path, stored, { precision });
  return readTrace(path);
}
