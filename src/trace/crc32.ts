/**
 * CRC-32 (ISO-HDLC, the zip checksum): slicing by 8 in JavaScript, and the combination of two pieces'
 * checksums (zlib's crc32_combine). Pure; blob-codec.ts re-exports both.
 */
import { LITTLE_ENDIAN } from './byte-planes.ts';

/** CRC-32 (ISO-HDLC, the zip checksum) of `data`, unsigned: `crc32` below or a native one with the same answers. */
export type Crc32 = (data: Uint8Array) => number;

const CRC_TABLES = (() => {
  const t = new Int32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) t[k * 256 + i] = t[(k - 1) * 256 + i]! >>> 8 ^ t[t[(k - 1) * 256 + i]! & 0xff]!;
  }
  return t;
})();

/**
 * CRC-32 (ISO-HDLC, the zip checksum) of `data`, unsigned. Slicing by 8 over aligned 32-bit loads
 * (little-endian platforms): ~2× slicing by 4 over bytes; every blob byte is checksummed on write and read.
 */
export function crc32(data: Uint8Array): number {
  const t = CRC_TABLES;
  let c = -1;
  let i = 0;
  const n = data.length;
  if (LITTLE_ENDIAN) {
    for (; i < n && ((data.byteOffset + i) & 3) !== 0; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    const words = (n - i) >>> 3;
    const w = words > 0 ? new Int32Array(data.buffer, data.byteOffset + i, words * 2) : new Int32Array(0);
    for (let k = 0; k < w.length; k += 2) {
      c ^= w[k]!;
      const d = w[k + 1]!;
      c =
        t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]! ^
        t[768 + (d & 0xff)]! ^ t[512 + ((d >>> 8) & 0xff)]! ^ t[256 + ((d >>> 16) & 0xff)]! ^ t[d >>> 24]!;
    }
    i += words * 8;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const CRC_POLY = 0xedb88320;

/** a(x)·b(x) modulo the CRC-32 polynomial, bit-reflected (zlib's multmodp). */
function crcMultiply(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ CRC_POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31 (zlib's x2n_table). */
const CRC_X2N = (() => {
  const t = new Uint32Array(32);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let k = 1; k < 32; k++) t[k] = p = crcMultiply(p, p);
  return t;
})();

/** x^(8·bytes) modulo the polynomial: what moves a CRC past `bytes` bytes (zlib's x2nmodp(bytes, 3)). */
function crcShift(bytes: number): number {
  let p = 0x80000000; // x^0
  for (let n = bytes, k = 3; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) p = crcMultiply(CRC_X2N[k & 31]!, p);
  return p;
}

/** crcShift by length: a trace's blobs share a few lengths. Bounded. */
const crcShifts = new Map<number, number>();

/**
 * The CRC-32 of A followed by B, from crc32(A), crc32(B) and B's length (zlib's crc32_combine): the
 * check of a run of entries inflated as one stream (inflate-stream.ts streamInflateJoined).
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  let shift = crcShifts.get(lengthB);
  if (shift === undefined) {
    shift = crcShift(lengthB);
    if (crcShifts.size < 1024) crcShifts.set(lengthB, shift);
  }
  return (crcMultiply(shift, crcA >>> 0) ^ crcB) >>> 0;
}
