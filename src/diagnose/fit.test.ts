import { describe, expect, it } from 'vitest';
import { affineFit, niceNumber, niceRange, residualInX, PERMUTATIONS_3, conf } from './fit.ts';
import { roundToHalf } from './node-evidence.ts';
import { relativeOrientation } from './causes/orientation.ts';

describe('fitting helpers', () => {
  it('fits an exact affine map and reports its residual in x units', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
    const y = Float32Array.from(x, (v) => v / 127.5 - 1);
    const f = affineFit(x, y);
    expect(f.a).toBeCloseTo(1 / 127.5, 9);
    expect(f.b).toBeCloseTo(-1, 6);
    expect(f.rel).toBeLessThan(1e-10);
    expect(residualInX(f)).toBeLessThan(1e-4);
    // A noisy fit: residual in x units ≈ the noise level.
    const noisy = Float32Array.from(x, (v, i) => (v + (i % 2 ? 1 : -1)) / 255);
    expect(residualInX(affineFit(x, noisy))).toBeCloseTo(1, 1);
  });

  it('treats an inverted or flat channel as no explanation, and two constants as exactly fitted', () => {
    const x = Float32Array.from({ length: 100 }, (_, i) => i);
    expect(affineFit(x, Float32Array.from(x, (v) => -v)).rel).toBe(1);
    expect(affineFit(x, new Float32Array(100).fill(3)).rel).toBe(1);
    expect(affineFit(new Float32Array(100).fill(5), new Float32Array(100).fill(3)).rel).toBe(0);
  });

  it('lists the 6 channel permutations, identity first', () => {
    expect(PERMUTATIONS_3).toHaveLength(6);
    expect(PERMUTATIONS_3[0]).toEqual([0, 1, 2]);
    expect(new Set(PERMUTATIONS_3.map((p) => p.join())).size).toBe(6);
  });

  it('writes ranges for people', () => {
    expect(niceRange(-1.0000001, 0.9999998)).toBe('[-1, 1]');
    expect(niceRange(0, 254.99)).toBe('[0, 255]');
    expect(niceRange(-2.1179, 2.2489)).toBe('[-2.12, 2.25]');
    expect(niceNumber(0.00392157)).toBe('0.00392');
    expect(niceNumber(0.0001, 2)).toBe('0');
    expect(conf(1.4)).toBe(1);
    expect(conf(Number.NaN)).toBe(0);
  });

  it('rounds to float16 exactly (round half to even, overflow to Inf)', () => {
    expect(roundToHalf(1 + 2 ** -11)).toBe(1); // tie → even
    expect(roundToHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundToHalf(65504)).toBe(65504);
    expect(roundToHalf(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundToHalf(2 ** -25)).toBe(0);
    expect(roundToHalf(3 * 2 ** -26)).toBe(2 ** -24);
  });

  it('relates the edge orientation to the upright photo', () => {
    // EXIF 6 ignored: the model sees the stored pixels, i.e. the upright photo rotated 90° counter-clockwise (8).
    expect(relativeOrientation(6, 1)).toBe(8);
    expect(relativeOrientation(8, 1)).toBe(6);
    expect(relativeOrientation(3, 1)).toBe(3);
    for (let o = 1; o <= 8; o++) expect(relativeOrientation(o, o)).toBe(1);
    expect(relativeOrientation(1, 5)).toBe(5);
  });
});
