import { describe, expect, it } from 'vitest';
import { rng } from './random.ts';
import { shuffle32, unshuffle32, unxorShuffle32, xorShuffle32 } from './byte-planes.ts';

/** The layout docs/trace-format.md gives: plane j holds byte j (little-endian) of every value, in order. */
function planesByDefinition(w: Uint32Array): Uint8Array {
  const n = w.length;
  const out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) out[j * n + i] = (w[i]! >>> (8 * j)) & 0xff;
  return out;
}

function randomWords(n: number, seed: number): Uint32Array {
  const r = rng(seed);
  // Edge values among random ones: every byte's top bit set and clear, NaN and infinity patterns.
  const edges = [0, 0xffffffff, 0x80000000, 0x7fffffff, 0x7fc00000, 0xff800000, 0x00ff00ff, 0xff00ff00, 0x01020304];
  return Uint32Array.from({ length: n }, (_, i) => (i < edges.length ? edges[i]! : Math.floor(r() * 2 ** 32)));
}

/** `b` copied to an odd offset of a larger buffer: the planes are not word-aligned there. */
function unaligned(b: Uint8Array): Uint8Array {
  const u = new Uint8Array(b.length + 3).subarray(1, b.length + 1);
  u.set(b);
  return u;
}

describe('byte planes', () => {
  // Multiples of 4 take the word transposes; the others, and unaligned planes, the byte loops.
  for (const n of [0, 1, 3, 4, 5, 8, 12, 1001, 4096]) {
    it(`${n} values: shuffled as the layout says and back, aligned or not, with XOR against a base`, () => {
      const w = randomWords(n, n + 1);
      const base = randomWords(n, n + 7);
      const planes = shuffle32(w);
      expect(planes).toEqual(planesByDefinition(w));
      for (const src of [planes, unaligned(planes)]) {
        const out = new Uint32Array(n);
        unshuffle32(src, out);
        expect(out).toEqual(w);
      }
      const xored = xorShuffle32(w, base);
      expect(xored).toEqual(planesByDefinition(w.map((v, i) => (v ^ base[i]!) >>> 0)));
      for (const src of [xored, unaligned(xored)]) {
        const out = new Uint32Array(n);
        unxorShuffle32(src, base, out);
        expect(out).toEqual(w);
      }
    });
  }
});
