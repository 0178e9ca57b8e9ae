import { describe, expect, it } from 'vitest';
import { bfloatBits, fromHalfBits, halfBits, halfToFloatTable, toHalfBits } from './half.ts';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const valueOf = (bits: number): number => {
  u32[0] = bits;
  return f32[0]!;
};

/** numpy.round: half to even (x ≥ 0). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/**
 * An oracle that shares nothing with half.ts: the float16 nearest to x (ties to even) found in float64
 * arithmetic on the float16 grid, then its bits by binary search over the ordered positive halves.
 */
function oracleHalf(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7c00;
  const q = 2 ** (Math.max(Math.floor(Math.log2(a)), -14) - 10);
  const v = a === 0 ? 0 : roundHalfEven(a / q) * q;
  if (v > 65504) return sign | 0x7c00;
  let lo = 0;
  let hi = 0x7c00;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fromHalfBits(mid) < v) lo = mid + 1;
    else hi = mid;
  }
  if (fromHalfBits(lo) !== v) throw new Error(`oracle: ${v} is no float16`);
  return sign | lo;
}

/** The same for bfloat16: the float32 grid with 8 significant bits (float32's subnormals below 2^-126). */
function oracleBfloat(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity) return sign | 0x7f80;
  const q = 2 ** (Math.max(Math.floor(Math.log2(a)), -126) - 7);
  const v = a === 0 ? 0 : roundHalfEven(a / q) * q;
  if (v >= 2 ** 128) return sign | 0x7f80;
  f32[0] = v;
  if ((u32[0]! & 0xffff) !== 0) throw new Error(`oracle: ${v} is no bfloat16`);
  return sign | (u32[0]! >>> 16);
}

/**
 * float32 bit patterns that exercise every rounding case: both signs, every exponent, every top-10
 * significand pattern on the float16 range (others sampled), and low bits at and around the halfway
 * point of each grid (float16 normal: bit 12; subnormal: higher bits; bfloat16: bit 15).
 */
function* interestingBits(): Generator<number> {
  const lows = [0, 1, 0x7ff, 0x800, 0xfff, 0x1000, 0x1001, 0x1fff, 0x7fff, 0x8000, 0x8001, 0xffff, 0x10000, 0x3ffff, 0x40000, 0x40001, 0x7ffff];
  let seed = 12345;
  const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (const sign of [0, 0x80000000]) {
    for (let e = 0; e < 256; e++) {
      const dense = e >= 98 && e <= 145; // float16's range and its rounding edges: every top-10 pattern
      for (let top = 0; top < 1024; top += dense ? 1 : 37) {
        for (const low of lows) yield (sign | (e << 23) | (top << 13) | (low & 0x1fff) | (low & ~0x1fff & ((1 << 23) - 1))) >>> 0;
        yield (sign | (e << 23) | (top << 13) | (rand() & 0x1fff)) >>> 0;
      }
    }
  }
}

describe('half.ts: float32 → float16 / bfloat16', () => {
  it('rounds every interesting float32 to the nearest float16 (ties to even), as the oracle does', () => {
    let n = 0;
    for (const bits of interestingBits()) {
      const x = valueOf(bits);
      const h = halfBits(bits);
      if (Number.isNaN(x)) {
        // Quiet NaN with the sign and the top of the payload kept.
        const want = ((bits >>> 16) & 0x8000) | 0x7e00 | ((bits >>> 13) & 0x1ff);
        if (h !== want) throw new Error(`NaN bits 0x${bits.toString(16)}: 0x${h.toString(16)}, want 0x${want.toString(16)}`);
        continue;
      }
      if (h !== oracleHalf(x)) throw new Error(`bits 0x${bits.toString(16)} (${x}): 0x${h.toString(16)}, oracle 0x${oracleHalf(x).toString(16)}`);
      if (toHalfBits(x) !== h) throw new Error(`toHalfBits(${x}) differs from halfBits of its bits`);
      n++;
    }
    expect(n).toBeGreaterThan(100_000);
  });

  it('rounds the edges exactly: largest half, overflow, smallest subnormal, ties', () => {
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65519.99)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // the tie between 65504 and 65536 goes to even: Infinity
    expect(toHalfBits(-1e9)).toBe(0xfc00);
    expect(toHalfBits(2 ** -24)).toBe(1);
    expect(toHalfBits(2 ** -25)).toBe(0); // tie with 0: even
    expect(toHalfBits(2 ** -25 * 1.0000001)).toBe(1);
    expect(toHalfBits(3 * 2 ** -25)).toBe(2); // tie between 1 and 2 subnormal steps: even
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(Number.NaN)).toBe(0x7e00);
    expect(toHalfBits(Infinity)).toBe(0x7c00);
  });

  it('reads every float16 back as the definition and the table do, and every non-NaN half survives a round trip', () => {
    const t = halfToFloatTable();
    const tu = new Uint32Array(t.buffer);
    // binary16 by definition: (-1)^s × m × 2^-24 (subnormal), (-1)^s × (1024 + m) × 2^(e-25), e = 31 Inf/NaN.
    const halfBitsToFloat = (h: number): number => {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >>> 10) & 0x1f;
      const m = h & 0x3ff;
      if (e === 31) return m === 0 ? s * Infinity : Number.NaN;
      return e === 0 ? s * m * 2 ** -24 : s * (1024 + m) * 2 ** (e - 25);
    };
    for (let h = 0; h < 65536; h++) {
      const x = fromHalfBits(h);
      if (Number.isNaN(x)) {
        // sign, all-ones exponent, payload
        if (!Number.isNaN(halfBitsToFloat(h)) || tu[h]! >>> 13 !== (((h & 0x8000) << 3) | 0x3fc00 | (h & 0x3ff))) throw new Error(`NaN 0x${h.toString(16)}`);
        continue;
      }
      if (!Object.is(halfBitsToFloat(h), x) || !Object.is(t[h], x) || toHalfBits(x) !== h) throw new Error(`half 0x${h.toString(16)} (${x})`);
    }
  });

  it('narrows every interesting float32 to the nearest bfloat16 (ties to even)', () => {
    for (const bits of interestingBits()) {
      const x = valueOf(bits);
      const b = bfloatBits(bits);
      if (Number.isNaN(x)) {
        if ((b & 0x7fc0) !== 0x7fc0 || (b & 0x8000) !== ((bits >>> 16) & 0x8000)) throw new Error(`NaN bits 0x${bits.toString(16)} → 0x${b.toString(16)}`);
        continue;
      }
      if (b !== oracleBfloat(x)) throw new Error(`bits 0x${bits.toString(16)} (${x}): 0x${b.toString(16)}, oracle 0x${oracleBfloat(x).toString(16)}`);
    }
  });
});
