/**
 * The zip directory of an `.exray` file, read through a ByteSource: the end-of-central-directory
 * record, the central directory and each entry's local header, every offset bounds-checked before it
 * is read. Only stored (0) and deflate (8) entries, no zip64, no encryption, one part: anything else
 * is a TraceFormatError naming the file and the problem. Nothing here inflates (file.ts, blob-codec.ts).
 */
import type { StoredEntry } from './blob-codec.ts';
import { TraceFormatError } from './errors.ts';

/**
 * Random access to the bytes of a file too large to hold (or that need not be held) in memory:
 * `read(offset, length)` returns up to `length` bytes at `offset` (fewer at the end of the file).
 * file.ts decodeTraceHeader reads through it only the zip directory, the local headers and header.json.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes in memory. */
export function bytesSource(b: Uint8Array): ByteSource {
  return { size: b.length, read: (offset, length) => b.subarray(offset, Math.min(b.length, offset + length)) };
}

/** One entry of the central directory: where its data starts, its sizes and CRC-32 as declared. */
export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  dataStart: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** Reads the central directory of a zip; every offset is bounds-checked. Reads only the directory and local headers. */
export function readZipDirectory(src: ByteSource, file: string): ZipEntry[] {
  const fail = (problem: string): never => {
    throw new TraceFormatError(file, problem);
  };
  const size = src.size;
  const notZip = (why: string): never => {
    const first = size > 0 ? src.read(0, 1)[0] : undefined;
    const hint = first === 0x7b || first === 0x5b ? '; it looks like JSON, an .exray file is a zip archive' : '';
    return fail(`not a zip archive (${why})${hint}`);
  };
  if (size < 22) notZip(`${size} bytes is too short`);
  const tailStart = Math.max(0, size - 22 - 0xffff);
  const tail = src.read(tailStart, size - tailStart);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocdAt = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tv.getUint32(p, true) === SIG_EOCD) {
      eocdAt = p;
      break;
    }
  }
  if (eocdAt < 0) notZip('no end-of-central-directory record');
  const eocd = tailStart + eocdAt;
  const disk = tv.getUint16(eocdAt + 4, true);
  const cdDisk = tv.getUint16(eocdAt + 6, true);
  const count = tv.getUint16(eocdAt + 10, true);
  const cdSize = tv.getUint32(eocdAt + 12, true);
  const cdOffset = tv.getUint32(eocdAt + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) fail('zip64 archives are not supported');
  if (disk !== 0 || cdDisk !== 0) fail('multi-part zip archives are not supported');
  if (cdOffset + cdSize > eocd) fail('corrupt zip: the central directory lies outside the file');
  const cd = src.read(cdOffset, cdSize);
  const dv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const u16 = (p: number): number => dv.getUint16(p, true);
  const u32 = (p: number): number => dv.getUint32(p, true);
  const names = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let p = 0;
  const cdEnd = cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || u32(p) !== SIG_CENTRAL) fail(`corrupt zip: central directory entry ${i} is damaged`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    const compressedSize = u32(p + 20);
    const size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    const localOffset = u32(p + 42);
    if (p + 46 + nameLen > cdEnd) fail(`corrupt zip: central directory entry ${i} is damaged`);
    const name = names.decode(cd.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 1) fail(`entry ${name} is encrypted`);
    if (method !== 0 && method !== 8) {
      fail(`entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) {
      fail('zip64 archives are not supported');
    }
    const local = localOffset + 30 <= src.size ? src.read(localOffset, 30) : new Uint8Array(0);
    const lv = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (local.length < 30 || lv.getUint32(0, true) !== SIG_LOCAL) fail(`corrupt zip: local header of entry ${name} is damaged`);
    const dataStart = localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataStart + compressedSize > src.size) fail(`corrupt zip: the data of entry ${name} lies outside the file`);
    if (method === 0 && compressedSize !== size) {
      fail(`corrupt zip: stored entry ${name} has compressed size ${compressedSize} but size ${size}`);
    }
    entries.push({ name, method, crc, compressedSize, size, dataStart });
  }
  return entries;
}

/** An entry with its (still compressed) data read from `src`. */
export function storedEntry(src: ByteSource, e: ZipEntry): StoredEntry {
  return { name: e.name, method: e.method, size: e.size, crc: e.crc, data: src.read(e.dataStart, e.compressedSize) };
}
