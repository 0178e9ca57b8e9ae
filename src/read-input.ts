/**
 * Reading untrusted input files (Node) within the limits of src/limits.ts: regular files only (a
 * device such as /dev/zero, a FIFO or a socket is refused before any byte is read, and opening never
 * blocks on a FIFO), and the size is checked against EXRAY_MAX_FILE_BYTES from fstat before the buffer
 * is allocated. Every problem is an ExrayInputError naming the path.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ExrayInputError } from './errors.ts';
import { checkLimit, limits } from './limits.ts';

/** What a non-regular file is, for messages: "a character device", "a FIFO (named pipe)", … */
export function kindOf(s: Stats): string {
  return s.isDirectory() ? 'a directory'
    : s.isFIFO() ? 'a FIFO (named pipe)'
    : s.isSocket() ? 'a socket'
    : s.isCharacterDevice() ? 'a character device'
    : s.isBlockDevice() ? 'a block device'
    : 'not a regular file';
}

/** The problem of an ExrayInputError for a path that does not exist. */
export const FILE_NOT_FOUND = 'file not found';

function openError(path: string, e: unknown): ExrayInputError {
  const code = (e as NodeJS.ErrnoException).code;
  return new ExrayInputError(
    path,
    code === 'ENOENT' ? FILE_NOT_FOUND
    : code === 'EISDIR' ? 'is a directory, expected a file'
    : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'ENOTDIR' ? 'a parent of this path is not a directory'
    : `cannot read file (${(e as Error).message})`,
  );
}

/** Opens `path` for reading when it is a regular file within the size limit; the caller closes it. */
export async function openInputFile(path: string, maxBytes = limits().fileBytes): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw new ExrayInputError(path, `is ${kindOf(s)}, expected a regular file`);
    checkLimit(path, 'fileBytes', s.size, 'file size', { bytes: true, limits: { ...limits(), fileBytes: maxBytes } });
    return { fh, size: s.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The whole of a regular input file, in a plain (non-Buffer) Uint8Array that owns its memory. */
export async function readInputBytes(path: string, maxBytes = limits().fileBytes): Promise<Uint8Array> {
  const { fh, size } = await openInputFile(path, maxBytes);
  try {
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(out, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    // A file that shrank while read is truncated; one that grew is read to its size at open.
    return done === size ? out : out.subarray(0, done);
  } catch (e) {
    if (e instanceof ExrayInputError) throw e;
    throw openError(path, e);
  } finally {
    await fh.close();
  }
}

/** `length` bytes at `offset` of an open file (fewer at its end). */
export async function readRange(fh: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? out : out.subarray(0, done);
}
