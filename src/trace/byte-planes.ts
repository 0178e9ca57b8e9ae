/**
 * The byte-plane layouts of blob entries (docs/trace-format.md "Blob encodings"), both ways. Pure.
 * Values are read as numbers (not bytes), so the planes are little-endian on any platform.
 */
import { bfloatBits, halfBits, halfToFloatTable } from './half.ts';
import type { BlobData } from './types.ts';

export function words(data: BlobData): Uint32Array {
  return new Uint32Array(data.buffer, data.byteOffset, data.length);
}

export function shuffle32(w: Uint32Array): Uint8Array {
  const n = w.length;
  const out = new Uint8Array(n * 4);
  const planes = planeWords(out, n);
  if (planes) {
    transposeBlocks(w, 4, 1, planes, 1, n >>> 2, n >>> 2);
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    out[i] = v & 0xff;
    out[n + i] = (v >>> 8) & 0xff;
    out[2 * n + i] = (v >>> 16) & 0xff;
    out[3 * n + i] = v >>> 24;
  }
  return out;
}

/** A mask of the values equal to `base` (bit i of byte i/8) and the 4 byte planes of the others, or null when too few are equal. */
export function masked32(w: Uint32Array, base: Uint32Array, minEqual: number): Uint8Array | null {
  const n = w.length;
  let equal = 0;
  for (let i = 0; i < n; i++) if (w[i] === base[i]) equal++;
  if (equal < n * minEqual) return null;
  const mask = (n + 7) >>> 3;
  const m = n - equal;
  const out = new Uint8Array(mask + 4 * m);
  let j = mask;
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    if (v === base[i]) out[i >>> 3]! |= 1 << (i & 7);
    else {
      out[j] = v & 0xff;
      out[j + m] = (v >>> 8) & 0xff;
      out[j + 2 * m] = (v >>> 16) & 0xff;
      out[j + 3 * m] = v >>> 24;
      j++;
    }
  }
  return out;
}

/** Inverse of masked32; the problem when the mask does not match the entry's size. */
export function unmask32(b: Uint8Array, base: Uint32Array, out: Uint32Array): string | null {
  const n = out.length;
  const mask = (n + 7) >>> 3;
  const m = (b.length - mask) / 4;
  let set = 0;
  for (let k = 0; k < mask; k++) {
    let x = b[k]!;
    while (x) {
      x &= x - 1;
      set++;
    }
  }
  if (n % 8 !== 0 && b[mask - 1]! >>> (n % 8) !== 0) return 'its mask has bits set past the last value';
  if (n - set !== m) return `its mask marks ${n - set} differing values but it holds ${m}`;
  let j = mask;
  for (let i = 0; i < n; i++) {
    if ((b[i >>> 3]! >>> (i & 7)) & 1) out[i] = base[i]!;
    else {
      out[i] = (b[j]! | (b[j + m]! << 8) | (b[j + 2 * m]! << 16) | (b[j + 3 * m]! << 24)) >>> 0;
      j++;
    }
  }
  return null;
}

export function unshuffle32(b: Uint8Array, out: Uint32Array): void {
  const n = out.length;
  const planes = planeWords(b, n);
  if (planes) transposeBlocks(planes, 1, n >>> 2, out, 4, 1, n >>> 2);
  else for (let i = 0; i < n; i++) out[i] = (b[i]! | (b[n + i]! << 8) | (b[2 * n + i]! << 16) | (b[3 * n + i]! << 24)) >>> 0;
}

/** Whether this platform stores multi-byte numbers little-endian (all browsers; Node except s390x): typed-array views of the planes and of the wire formats read them as they are. */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The 4 byte planes of `n` values in `b` as 4-byte words (each word: 4 consecutive values' bytes of
 * one plane), when they can be read so: a little-endian platform, `n` a multiple of 4 (each plane
 * starts on a word) and `b` word-aligned (a freshly inflated entry is; a stored one may not be). Else null.
 */
function planeWords(b: Uint8Array, n: number): Uint32Array | null {
  return LITTLE_ENDIAN && n % 4 === 0 && b.byteOffset % 4 === 0 && b.length >= 4 * n ? new Uint32Array(b.buffer, b.byteOffset, n) : null;
}

/**
 * `blocks` 4×4 byte transposes, done in registers: block k's words i = 0..3 are read from
 * `src[k * sk + i * si]`, and word j of the result (byte i of it = byte j of source word i) is written
 * to `dst[k * dk + j * dj]`. Planes ↔ values 4 at a time, with 2 memory accesses per value instead of
 * the byte loop's 5: in Chromium, the 1,000 16 KiB blobs of the viewer benchmark's trace un-shuffle in
 * ~4.5 ms against ~12 ms. The transpose is its own inverse, so one routine serves both directions.
 */
function transposeBlocks(src: Uint32Array, sk: number, si: number, dst: Uint32Array, dk: number, dj: number, blocks: number): void {
  for (let k = 0; k < blocks; k++) {
    const s = k * sk;
    const x0 = src[s]!;
    const x1 = src[s + si]!;
    const x2 = src[s + 2 * si]!;
    const x3 = src[s + 3 * si]!;
    // a: byte 0 and 2 of x0 and x1 interleaved; b: bytes 1 and 3; c, d: the same of x2 and x3.
    const a = (x0 & 0x00ff00ff) | ((x1 & 0x00ff00ff) << 8);
    const b = ((x0 >>> 8) & 0x00ff00ff) | (x1 & 0xff00ff00);
    const c = (x2 & 0x00ff00ff) | ((x3 & 0x00ff00ff) << 8);
    const d = ((x2 >>> 8) & 0x00ff00ff) | (x3 & 0xff00ff00);
    const t = k * dk;
    dst[t] = (a & 0xffff) | (c << 16);
    dst[t + dj] = (b & 0xffff) | (d << 16);
    dst[t + 2 * dj] = (a >>> 16) | (c & 0xffff0000);
    dst[t + 3 * dj] = (b >>> 16) | (d & 0xffff0000);
  }
}

/**
 * The 2-byte planes of `w` narrowed to float16 / bfloat16, or null when a finite value would become
 * infinite (|x| > 65504 for float16): such a blob is kept exact rather than break the stated bound.
 */
export function narrow(w: Uint32Array, codec: 'float16' | 'bfloat16'): Uint8Array | null {
  const n = w.length;
  const out = new Uint8Array(n * 2);
  const half = codec === 'float16';
  for (let i = 0; i < n; i++) {
    const f = w[i]!;
    const h = half ? halfBits(f) : bfloatBits(f);
    if ((half ? (h & 0x7fff) === 0x7c00 : (h & 0x7fff) === 0x7f80) && (f & 0x7f800000) !== 0x7f800000) return null;
    out[i] = h & 0xff;
    out[n + i] = h >>> 8;
  }
  return out;
}

export function widen(b: Uint8Array, codec: 'float16' | 'bfloat16', length: number): Float32Array {
  const out = new Float32Array(length);
  const n = length;
  if (codec === 'float16') {
    const t = halfToFloatTable();
    for (let i = 0; i < n; i++) out[i] = t[b[i]! | (b[n + i]! << 8)]!;
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = ((b[i]! | (b[n + i]! << 8)) << 16) >>> 0;
  }
  return out;
}

/** xor4: the 4 byte planes of each value XOR its base's (a residual Add's output against its input shares sign, exponent and top bits). */
export function xorShuffle32(w: Uint32Array, base: Uint32Array): Uint8Array {
  const n = w.length;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const v = w[i]! ^ base[i]!;
    out[i] = v & 0xff;
    out[n + i] = (v >>> 8) & 0xff;
    out[2 * n + i] = (v >>> 16) & 0xff;
    out[3 * n + i] = v >>> 24;
  }
  return out;
}

/** Inverse of xorShuffle32. */
export function unxorShuffle32(b: Uint8Array, base: Uint32Array, out: Uint32Array): void {
  const n = out.length;
  if (planeWords(b, n)) {
    unshuffle32(b, out);
    for (let i = 0; i < n; i++) out[i] = out[i]! ^ base[i]!;
  } else for (let i = 0; i < n; i++) out[i] = ((b[i]! | (b[n + i]! << 8) | (b[2 * n + i]! << 16) | (b[3 * n + i]! << 24)) ^ base[i]!) >>> 0;
}

/**
 * Whether XOR against `base` should code smaller than the values alone, from a sample of ≤ 16K
 * values: the order-0 entropy of the top two bytes (sign, exponent, top mantissa bits: all the
 * compressible part) either way, XOR chosen when it saves at least `minBits` per value.
 */
export function xorPays(w: Uint32Array, base: Uint32Array, minBits: number): boolean {
  const n = w.length;
  const step = Math.max(1, Math.floor(n / 16384));
  const h = new Uint32Array(4 * 256);
  let m = 0;
  for (let i = 0; i < n; i += step, m++) {
    const v = w[i]!;
    const x = v ^ base[i]!;
    h[v >>> 24]!++;
    h[256 + ((v >>> 16) & 0xff)]!++;
    h[512 + (x >>> 24)]!++;
    h[768 + ((x >>> 16) & 0xff)]!++;
  }
  const bits = (k: number): number => {
    let b = 0;
    for (let j = k * 256; j < k * 256 + 256; j++) if (h[j]! > 0) b += h[j]! * Math.log2(m / h[j]!);
    return b;
  };
  return bits(2) + bits(3) + minBits * m < bits(0) + bits(1);
}
