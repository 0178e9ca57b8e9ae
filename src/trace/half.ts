/**
 * IEEE 754 binary16 (float16) and bfloat16 conversions, the one copy for the project: trace storage
 * (blob-codec.ts `--precision float16|bfloat16`), float16 model variants (models/variants.ts) and
 * ONNX float16 feeds use these, so a value narrowed anywhere rounds the same way. Pure.
 *
 * float32 → float16 rounds to nearest, ties to even, as numpy's npy_floatbits_to_halfbits does:
 * values below half the smallest subnormal (2^-25) become ±0, the float16 subnormal range rounds on
 * its coarser grid, finite values that round past 65504 become ±Infinity, ±Infinity stays, and NaN
 * stays NaN: quiet, keeping its sign and the top 9 bits of its payload (the canonical float32 NaN
 * 0x7fc00000 → 0x7e00).
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 bits (an unsigned 32-bit pattern) → float16 bits. The hot loop form: no float round trip. */
export function halfBits(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = f & 0x7f800000;
  let sig = f & 0x007fffff;
  if (exp >= 0x47800000) {
    if (exp === 0x7f800000 && sig !== 0) return sign | 0x7e00 | (sig >>> 13); // NaN stays NaN (quiet)
    return sign | 0x7c00; // ±Infinity, or a finite value of magnitude ≥ 65536
  }
  if (exp <= 0x38000000) {
    // float16 subnormal (or zero): shift the significand with its implicit bit onto the 2^-24 grid.
    if (exp < 0x33000000) return sign; // below half the smallest subnormal
    const e = exp >>> 23;
    sig = 0x00800000 + sig;
    sig >>>= 113 - e;
    // Ties to even: the shifted-out bits (f & 0x7ff was lost in the shift for e = 102) break exact halves.
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign | (sig >>> 13);
  }
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  // A carry out of the significand increments the exponent, up to 0x7c00 (Infinity) past 65504.
  return (sign | (((exp - 0x38000000) >>> 13) + (sig >>> 13))) & 0xffff;
}

/** A number (rounded to float32 first, as a Float32Array store would) → float16 bits. */
export function toHalfBits(value: number): number {
  F32[0] = value;
  return halfBits(U32[0]!);
}

/** float16 bits → the number they hold (NaN for every NaN payload). */
export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

let HALF_TABLE: Float32Array | undefined;
/**
 * float16 bits → float32, all 65536 of them (built once, 256 KiB), for widening whole blobs. NaN
 * entries keep sign and payload (float32 bits sign | 0x7f800000 | payload << 13), as a hardware
 * float16 → float32 widening does.
 */
export function halfToFloatTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = fromHalfBits(h);
  const u = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) if (((h >>> 10) & 0x1f) === 31 && (h & 0x3ff) !== 0) u[h] = (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0;
  HALF_TABLE = t;
  return t;
}

/** float32 bits → bfloat16 bits (the upper 16), round to nearest even; NaN stays NaN (quiet), ±Infinity stays. */
export function bfloatBits(f: number): number {
  if ((f & 0x7f800000) === 0x7f800000 && (f & 0x7fffff) !== 0) return ((f >>> 16) | 0x40) & 0xffff;
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}
