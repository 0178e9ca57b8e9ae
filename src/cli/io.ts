/** Reading and writing trace files and JSON outputs from the CLI (Node). */
import { readFile } from 'node:fs/promises';
import { ExrayInputError } from '../errors.ts';
import { writeOutputFile } from '../io/outputs.ts';
import { decodeTrace, encodeTrace } from '../trace/file.ts';
import type { Trace } from '../trace/types.ts';

export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    // A plain Uint8Array view: Buffer#slice aliases instead of copying, which readers must not meet.
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExrayInputError(path, code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, expected a file' : (e as Error).message);
  }
}

export async function readTrace(path: string): Promise<Trace> {
  return decodeTrace(await readInputFile(path), path);
}

/**
 * Atomic (src/io/atomic.ts): a failure (disk full) or an interrupt leaves the previous file at `path`
 * as it was, and no temp file; the error names the file (src/io/outputs.ts).
 */
export async function writeOutput(path: string, data: Uint8Array | string): Promise<void> {
  await writeOutputFile(path, data);
}

export async function writeTrace(path: string, trace: Trace): Promise<void> {
  await writeOutput(path, encodeTrace(trace));
}
