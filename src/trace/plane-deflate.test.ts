import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { deflatePlanes, endsJoinable, JOINABLE_FINAL } from './plane-deflate.ts';
import { randn } from './random.ts';

let seed = 7;
const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

/** Inflated by zlib (Node's, the reference implementation) and by fflate (what exray's reader uses): both must give `src` back. */
function roundTrip(src: Uint8Array, cuts: number[] = []): Uint8Array {
  const d = deflatePlanes(src, cuts);
  expect(Buffer.from(inflateRawSync(d)).equals(Buffer.from(src))).toBe(true);
  expect(Buffer.from(inflateSync(d, { out: new Uint8Array(src.length) })).equals(Buffer.from(src))).toBe(true);
  return d;
}

const blocks = (n: number, cuts: number[]): number => {
  let b = 0;
  let s = 0;
  for (const c of [...cuts, n]) {
    b += Math.max(1, Math.ceil((c - s) / 65535));
    s = c;
  }
  return b;
};

describe('deflatePlanes: standard deflate data, never larger than stored', () => {
  it('empty, one byte, and sizes around the 65535-byte block', () => {
    for (const n of [0, 1, 2, 3, 65534, 65535, 65536, 131071]) {
      const src = new Uint8Array(n);
      for (let i = 0; i < n; i++) src[i] = rand() < 0.5 ? 0 : (rand() * 8) | 0;
      roundTrip(src);
    }
  });

  it('random bytes go into stored blocks: at most 5 bytes a block over the input, and the 10-byte joinable tail', () => {
    const src = new Uint8Array(200_001);
    for (let i = 0; i < src.length; i++) src[i] = (rand() * 256) | 0;
    const cuts = [50_000, 100_000, 150_000];
    const d = roundTrip(src, cuts);
    expect(d.length).toBeLessThanOrEqual(src.length + 5 * blocks(src.length, cuts) + 10);
    expect(d.length).toBeGreaterThanOrEqual(src.length);
  });

  it('runs (distance-1 matches) of every length, across block and plane boundaries: zeros cost almost nothing', () => {
    const zeros = new Uint8Array(300_000);
    expect(roundTrip(zeros, [100_000]).length).toBeLessThan(zeros.length / 500);
    const runs = new Uint8Array(400_000);
    for (let i = 0, len = 1; i < runs.length; i += len, len = (len % 600) + 1) runs.fill((rand() * 4) | 0, i, i + len);
    roundTrip(runs, [65_536, 131_073, 262_140]);
  });

  it('skewed statistics that need Huffman codes longer than 15 bits (length-limited), and a byte plane of real float32 values', () => {
    const deep = new Uint8Array(70_000);
    for (let i = 0; i < deep.length; i++) {
      let k = 0;
      while (rand() < 0.9 && k < 255) k++;
      deep[i] = k;
    }
    expect(roundTrip(deep).length).toBeLessThan(deep.length * 0.7);
    const f = randn(100_000, 3, 2);
    const w = new Uint32Array(f.buffer);
    const planes = new Uint8Array(4 * w.length);
    for (let i = 0; i < w.length; i++) for (let k = 0; k < 4; k++) planes[k * w.length + i] = (w[i]! >>> (8 * k)) & 0xff;
    const n = w.length;
    const d = roundTrip(planes, [n, 2 * n, 3 * n]);
    // Sign and exponent (the top plane) code to ~3 bits a value; the mantissa planes stay stored.
    expect(d.length).toBeLessThan(planes.length * 0.85);
  });

  it('every entry ends joinable: without its last 5 bytes, entries one after another inflate as one stream to their bytes one after another', () => {
    const srcs: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(70_000).fill(3)];
    const f = randn(20_000, 11, 2);
    srcs.push(new Uint8Array(f.buffer), new Uint8Array(65_535).map(() => (rand() * 256) | 0));
    const ds = srcs.map((s, i) => (i === 3 ? roundTrip(s, [20_000, 40_000, 60_000]) : roundTrip(s)));
    for (const d of ds) expect(endsJoinable(d)).toBe(true);
    const joined = Buffer.concat([...ds.map((d) => d.subarray(0, d.length - JOINABLE_FINAL)), ds[0]!.subarray(ds[0]!.length - JOINABLE_FINAL)]);
    expect(Buffer.from(inflateRawSync(joined)).equals(Buffer.concat(srcs))).toBe(true);
    // Other writers' deflate (zlib's, fflate's) ends otherwise: read one entry at a time.
    expect(endsJoinable(deflateRawSync(srcs[3]!))).toBe(false);
    expect(endsJoinable(ds[3]!.subarray(0, ds[3]!.length - 1))).toBe(false);
  });
});
