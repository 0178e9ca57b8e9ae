import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Combine, decodeBlob, encodeBlob, STORAGE_RELATIVE_ERROR, type EncodedBlob } from './blob-codec.ts';
import { TraceFormatError } from './errors.ts';
import { randn, rng } from './random.ts';

const FILE = 'pixel-7.exray';
const entry = (e: EncodedBlob, name = 'tensors/x.bin') => ({ name, method: e.method, size: e.size, crc: e.crc, data: e.data });
const bits = (f: Float32Array): Uint32Array => new Uint32Array(f.buffer, f.byteOffset, f.length);

/** Post-ReLU6 activations: about half zeros, a few clipped at 6, the rest gaussian. */
function relu6(n: number, seed: number): Float32Array {
  return randn(n, seed, 2).map((v) => Math.min(6, Math.max(0, v)));
}

function problemOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TraceFormatError);
    expect((e as TraceFormatError).file).toBe(FILE);
    return (e as TraceFormatError).problem;
  }
  throw new Error('expected a TraceFormatError');
}

describe('encodeBlob / decodeBlob', () => {
  it('lossless: byte planes deflated when that saves ≥ 10 %, bit-exact back (NaN payloads, ±0, ±Inf, int32)', () => {
    const f = relu6(10_000, 1);
    f[3] = NaN;
    f[4] = -0;
    f[5] = Infinity;
    f[6] = -Infinity;
    bits(f)[7] = 0x7fc01234; // a NaN with a payload
    const e = encodeBlob(f);
    expect(e.codec).toBe('shuffle4');
    expect(e.method).toBe(8);
    expect(e.data.length).toBeLessThan(0.9 * f.byteLength);
    const back = decodeBlob(entry(e), e.codec, 'float32', f.length, FILE) as Float32Array;
    expect(back).toBeInstanceOf(Float32Array);
    expect(bits(back)).toEqual(bits(f));
    const ints = Int32Array.from({ length: 4096 }, (_, i) => (i % 17) - 8);
    const ei = encodeBlob(ints);
    expect(ei.codec).toBe('shuffle4');
    expect(decodeBlob(entry(ei), ei.codec, 'int32', ints.length, FILE)).toEqual(ints);
  });

  it('keeps incompressible blobs raw and stored (no codec), and compress: false always does', () => {
    const r = rng(2);
    const noise = new Uint32Array(4096).map(() => Math.floor(r() * 2 ** 32));
    const f = new Float32Array(noise.buffer);
    const e = encodeBlob(f);
    expect(e.codec).toBeUndefined();
    expect(e.method).toBe(0);
    expect(e.data).toEqual(new Uint8Array(f.buffer));
    const raw = encodeBlob(relu6(1000, 3), { compress: false });
    expect([raw.codec, raw.method, raw.size]).toEqual([undefined, 0, 4000]);
  });

  it('float16 / bfloat16: every value within the stated relative bound, NaN/Inf/±0 kept, int32 exact', () => {
    const f = randn(20_000, 4).map((v, i) => v * 10 ** ((i % 9) - 4));
    f[0] = NaN;
    f[1] = -Infinity;
    f[2] = -0;
    f[3] = 65504; // float16 max
    for (const p of ['float16', 'bfloat16'] as const) {
      const e = encodeBlob(f, { precision: p });
      expect(e.codec).toBe(p);
      expect(e.size).toBe(f.length * 2);
      const back = decodeBlob(entry(e), e.codec, 'float32', f.length, FILE) as Float32Array;
      expect(back[0]).toBeNaN();
      expect(back[1]).toBe(-Infinity);
      expect(Object.is(back[2], -0)).toBe(true);
      let worst = 0;
      for (let i = 3; i < f.length; i++) {
        const x = f[i]!;
        const err = Math.abs(back[i]! - x);
        // float16 subnormals (|x| < 2^-14) are within 2^-25 absolute instead.
        if (p === 'float16' && Math.abs(x) < 2 ** -14) expect(err).toBeLessThanOrEqual(2 ** -25);
        else worst = Math.max(worst, err / Math.abs(x));
      }
      expect(worst).toBeLessThanOrEqual(STORAGE_RELATIVE_ERROR[p]);
      // The bound is tight, not loose: some value is rounded by more than a quarter of it.
      expect(worst).toBeGreaterThan(STORAGE_RELATIVE_ERROR[p] / 4);
    }
    const ints = Int32Array.from({ length: 1000 }, (_, i) => i * 1000);
    const ei = encodeBlob(ints, { precision: 'float16' });
    expect(ei.codec === 'shuffle4' || ei.codec === undefined).toBe(true);
    expect(decodeBlob(entry(ei), ei.codec, 'int32', ints.length, FILE)).toEqual(ints);
  });

  it('float16 keeps a blob exact rather than turn a finite value beyond 65504 into Infinity', () => {
    const f = relu6(1000, 5);
    f[10] = 70_000;
    const e = encodeBlob(f, { precision: 'float16' });
    expect(e.codec === 'shuffle4' || e.codec === undefined).toBe(true);
    expect(decodeBlob(entry(e), e.codec, 'float32', f.length, FILE)).toEqual(f);
    expect(encodeBlob(f, { precision: 'bfloat16' }).codec).toBe('bfloat16');
  });

  it('a corrupt deflate stream, a lying declared size or a wrong CRC is a TraceFormatError naming file and entry', () => {
    const f = relu6(20_000, 6);
    const e = encodeBlob(f);
    expect(e.method).toBe(8);
    const broken = e.data.slice();
    broken.fill(0xff, 10, 60);
    expect(problemOf(() => decodeBlob({ ...entry(e), data: broken }, e.codec, 'float32', f.length, FILE))).toMatch(
      /^corrupt (zip: entry tensors\/x\.bin cannot be inflated|zip: entry tensors\/x\.bin inflates to|file: entry tensors\/x\.bin fails its CRC-32 check)/,
    );
    // Declared smaller than the data: inflation stops at the declared size.
    expect(problemOf(() => decodeBlob({ ...entry(e), size: 4000 }, e.codec, 'float32', 1000, FILE))).toBe(
      'corrupt zip: entry tensors/x.bin inflates to more than its declared 4000 bytes',
    );
    // Declared size disagrees with the header's length: refused before anything is allocated.
    expect(problemOf(() => decodeBlob({ ...entry(e), size: 2 ** 31 }, e.codec, 'float32', f.length, FILE))).toMatch(
      /^blob tensors\/x\.bin is 2147483648 bytes but header\.json says 20000 float32 values stored as shuffle4 \(80000 bytes\)$/,
    );
    expect(problemOf(() => decodeBlob({ ...entry(e), crc: (e.crc ^ 1) >>> 0 }, e.codec, 'float32', f.length, FILE))).toBe(
      'corrupt file: entry tensors/x.bin fails its CRC-32 check',
    );
    const h = encodeBlob(f, { precision: 'float16' });
    expect(problemOf(() => decodeBlob(entry(h), h.codec, 'int32', f.length, FILE))).toMatch(/only float32 blobs may be narrowed/);
  });

  it('masked4: a ReLU output stored against its input costs about a bit a value and comes back bit-exact; a bad mask is refused', () => {
    const pre = randn(10_001, 8, 2);
    const relu = pre.map((v) => Math.min(6, Math.max(0, v)));
    const e = encodeBlob(relu, { base: pre });
    expect(e.codec).toBe('masked4');
    expect(e.data.length).toBeLessThan(relu.byteLength / 16);
    const back = decodeBlob(entry(e), e.codec, 'float32', relu.length, FILE, pre) as Float32Array;
    expect(bits(back)).toEqual(bits(relu));
    expect(problemOf(() => decodeBlob(entry(e), e.codec, 'float32', relu.length, FILE))).toMatch(/stored as masked4 but its base blob of 10001 values is missing$/);
    // A base that shares too few values is not used; nor is one of another length.
    expect(encodeBlob(randn(10_001, 9), { base: pre }).codec).not.toBe('masked4');
    expect(encodeBlob(relu, { base: pre.subarray(1) }).codec).toBe('shuffle4');
    // Entry bytes whose mask disagrees with their size (a CRC-valid but inconsistent entry).
    const plain = encodeBlob(relu, { base: pre, compress: false });
    expect(plain.codec).toBeUndefined(); // compress: false never encodes
    const stored = { name: 'tensors/x.bin', method: 0, size: 0, crc: 0, data: new Uint8Array(0) };
    const mask = Math.ceil(relu.length / 8);
    const bytes = new Uint8Array(mask + 8); // says 2 differing values; the mask (all zero) says 10001
    expect(problemOf(() => decodeBlob({ ...stored, size: bytes.length, crc: crc32(bytes), data: bytes }, 'masked4', 'float32', relu.length, FILE, pre))).toBe(
      'corrupt file: blob tensors/x.bin (masked4): its mask marks 10001 differing values but it holds 2',
    );
    expect(problemOf(() => decodeBlob({ ...stored, size: mask + 3, crc: 0, data: new Uint8Array(mask + 3) }, 'masked4', 'float32', relu.length, FILE, pre))).toMatch(
      /^blob tensors\/x\.bin is 1254 bytes but header\.json says 10001 float32 values stored as masked4 \(1251 \+ 4 × \(0…10001\) bytes\)$/,
    );
  });

  it('xor4: a residual Add stored against its input (values close, rarely equal) codes smaller than alone and comes back bit-exact', () => {
    const x = randn(20_000, 11, 2);
    const delta = randn(20_000, 12, 0.01);
    const sum = x.map((v, i) => v + delta[i]!);
    const e = encodeBlob(sum, { base: x });
    expect(e.codec).toBe('xor4');
    expect(e.data.length).toBeLessThan(0.8 * encodeBlob(sum).data.length);
    const back = decodeBlob(entry(e), e.codec, 'float32', sum.length, FILE, x) as Float32Array;
    expect(bits(back)).toEqual(bits(sum));
    expect(problemOf(() => decodeBlob(entry(e), e.codec, 'float32', sum.length, FILE))).toMatch(/stored as xor4 but its base blob of 20000 values is missing$/);
    // With the wrong base the CRC still passes (it covers the entry bytes), so the values differ: the base is named in the header for a reason.
    expect(bits(decodeBlob(entry(e), e.codec, 'float32', sum.length, FILE, delta) as Float32Array)).not.toEqual(bits(sum));
    // An unrelated base is not used.
    expect(encodeBlob(randn(20_000, 13, 2), { base: x }).codec).toBe('shuffle4');
  });

  it('crc32 (slicing by 8) matches the standard check value and zlib at every alignment and length', () => {
    const s = new TextEncoder().encode('123456789');
    expect(crc32(s)).toBe(0xcbf43926);
    const padded = new Uint8Array(12);
    for (let k = 0; k < 3; k++) {
      padded.set(s, k);
      expect(crc32(padded.subarray(k, k + 9))).toBe(0xcbf43926);
    }
    const r = new Uint8Array(new Float32Array(randn(300, 5)).buffer);
    for (let off = 0; off < 8; off++) for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 64, 1000]) expect(crc32(r.subarray(off, off + len))).toBe(zlibCrc32(r.subarray(off, off + len)));
  });

  it('crc32Combine: the CRC-32 of two pieces one after another, from theirs and the second one\'s length', () => {
    const r = new Uint8Array(new Float32Array(randn(70_000, 9)).buffer);
    for (const cut of [0, 1, 3, 4, 16_384, 65_536, 131_071, r.length - 1, r.length]) {
      const a = r.subarray(0, cut);
      const b = r.subarray(cut);
      expect(crc32Combine(crc32(a), crc32(b), b.length), `cut at ${cut}`).toBe(crc32(r));
    }
    // Many pieces folded left to right, as a joined run of entries is checked.
    let crc = 0;
    for (let at = 0, len = 1; at < r.length; at += len, len = (len * 7 + 3) % 40_000) crc = crc32Combine(crc, crc32(r.subarray(at, at + len)), r.subarray(at, at + len).length);
    expect(crc).toBe(crc32(r));
    // The standard check value, split anywhere.
    const s = new TextEncoder().encode('123456789');
    for (let k = 0; k <= 9; k++) expect(crc32Combine(crc32(s.subarray(0, k)), crc32(s.subarray(k)), 9 - k)).toBe(0xcbf43926);
  });
});
