import { describe, expect, it } from 'vitest';
import type { RgbaImage } from './image.ts';
import { rgbaToRgb } from './normalize.ts';
import { applyExifOrientation, inverseOrientation, orientPlanes, orientedSize, undoExifOrientation } from './orientation.ts';
import { loadSample, meanAbsDiff, prng } from './test-helpers.ts';

/** W×H RGBA image whose pixel (x, y) is [x, y, 10x+y, 255] (unique per pixel). */
function coordImage(W: number, H: number, ctor: 'clamped' | 'plain' = 'clamped'): RgbaImage {
  const data = ctor === 'clamped' ? new Uint8ClampedArray(W * H * 4) : new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      data.set([x, y, 10 * x + y, 255], (y * W + x) * 4);
    }
  }
  return { width: W, height: H, data };
}

function px(img: RgbaImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(i, i + 4));
}

/**
 * Where stored pixel (x, y) of a W×H image is displayed, written as forward geometric transforms
 * (independent of the implementation, which maps output → input).
 */
const FORWARD: Record<number, (x: number, y: number, W: number, H: number) => [number, number]> = {
  1: (x, y) => [x, y],
  2: (x, y, W) => [W - 1 - x, y], // mirror horizontal
  3: (x, y, W, H) => [W - 1 - x, H - 1 - y], // rotate 180
  4: (x, y, _W, H) => [x, H - 1 - y], // mirror vertical
  5: (x, y) => [y, x], // transpose
  6: (x, y, _W, H) => [H - 1 - y, x], // rotate 90 CW
  7: (x, y, W, H) => [H - 1 - y, W - 1 - x], // transverse
  8: (x, y, W) => [y, W - 1 - x], // rotate 90 CCW
};

/** The EXIF definition: where the stored 0th row and 0th column end up on the upright image. */
const ZEROTH: Record<number, [string, string]> = {
  1: ['top', 'left'],
  2: ['top', 'right'],
  3: ['bottom', 'right'],
  4: ['bottom', 'left'],
  5: ['left', 'top'],
  6: ['right', 'top'],
  7: ['right', 'bottom'],
  8: ['left', 'bottom'],
};

function sideOf(points: [number, number][], w: number, h: number): string {
  const xs = new Set(points.map((p) => p[0]));
  const ys = new Set(points.map((p) => p[1]));
  if (ys.size === 1 && ys.has(0)) return 'top';
  if (ys.size === 1 && ys.has(h - 1)) return 'bottom';
  if (xs.size === 1 && xs.has(0)) return 'left';
  if (xs.size === 1 && xs.has(w - 1)) return 'right';
  return '?';
}

describe('applyExifOrientation: the 8 EXIF orientations', () => {
  const W = 5;
  const H = 3;
  const img = coordImage(W, H);

  for (let o = 1; o <= 8; o++) {
    it(`orientation ${o}: every pixel lands where the EXIF definition puts it`, () => {
      const out = applyExifOrientation(img, o);
      expect([out.width, out.height]).toEqual(o >= 5 ? [H, W] : [W, H]);
      expect(orientedSize(W, H, o)).toEqual({ width: out.width, height: out.height });
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const [dx, dy] = FORWARD[o]!(x, y, W, H);
          expect(px(out, dx, dy)).toEqual([x, y, 10 * x + y, 255]);
        }
      }
      // The stored 0th row / 0th column are on the sides the EXIF table names.
      const row0: [number, number][] = [];
      const col0: [number, number][] = [];
      for (let x = 0; x < W; x++) row0.push(FORWARD[o]!(x, 0, W, H));
      for (let y = 0; y < H; y++) col0.push(FORWARD[o]!(0, y, W, H));
      // Find where stored row 0 / col 0 actually are in the output by value.
      const locate = (pred: (v: number[]) => boolean): [number, number][] => {
        const found: [number, number][] = [];
        for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) if (pred(px(out, x, y))) found.push([x, y]);
        return found;
      };
      expect(sideOf(locate((v) => v[1] === 0), out.width, out.height)).toBe(ZEROTH[o]![0]);
      expect(sideOf(locate((v) => v[0] === 0), out.width, out.height)).toBe(ZEROTH[o]![1]);
      expect(row0.length + col0.length).toBe(W + H);
    });
  }

  it('undoExifOrientation inverts applyExifOrientation for all 8 (both directions, both array types)', () => {
    const rnd = prng(3);
    for (const kind of ['clamped', 'plain'] as const) {
      const x = coordImage(7, 4, kind);
      for (let i = 0; i < x.data.length; i++) x.data[i] = Math.floor(rnd() * 256);
      for (let o = 1; o <= 8; o++) {
        const there = applyExifOrientation(x, o);
        expect(there.data.constructor).toBe(x.data.constructor);
        const back = undoExifOrientation(there, o);
        expect([back.width, back.height]).toEqual([7, 4]);
        expect(Array.from(back.data)).toEqual(Array.from(x.data));
        const back2 = applyExifOrientation(undoExifOrientation(x, o), o);
        expect(Array.from(back2.data)).toEqual(Array.from(x.data));
      }
    }
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(inverseOrientation)).toEqual([1, 2, 3, 4, 5, 8, 7, 6]);
  });

  it('an unaligned Uint8Array view (slow path) gives the same result as the word path', () => {
    const x = coordImage(6, 5, 'plain');
    const buf = new Uint8Array(x.data.length + 1);
    buf.set(x.data, 1);
    const unaligned: RgbaImage = { width: 6, height: 5, data: buf.subarray(1) };
    for (let o = 1; o <= 8; o++) {
      expect(Array.from(applyExifOrientation(unaligned, o).data)).toEqual(Array.from(applyExifOrientation(x, o).data));
    }
  });

  it('orientPlanes on planar float data matches the interleaved result', () => {
    const x = coordImage(5, 3);
    const rgb = rgbaToRgb(x, 'ignore');
    const n = 15;
    const planar = new Float32Array(45);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planar[c * n + i] = rgb.data[i * 3 + c] as number;
    for (let o = 1; o <= 8; o++) {
      const a = orientPlanes(rgb, o);
      const b = orientPlanes({ ...rgb, layout: 'planar', data: planar }, o);
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) expect(b.data[c * n + i]).toBe(a.data[i * 3 + c]);
    }
  });

  it('rejects invalid orientations and bad buffers', () => {
    expect(() => applyExifOrientation(img, 0)).toThrow(RangeError);
    expect(() => applyExifOrientation(img, 9)).toThrow(RangeError);
    expect(() => applyExifOrientation(img, 2.5)).toThrow(RangeError);
    expect(() => applyExifOrientation({ width: 5, height: 3, data: new Uint8Array(10) }, 1)).toThrow(RangeError);
  });
});

describe('EXIF orientation on real photos', () => {
  const cases: [string, string, number][] = [
    ['chelsea_exif6.jpg', 'chelsea.png', 6],
    ['coffee_exif3.jpg', 'coffee.png', 3],
    ['rocket_exif8.jpg', 'rocket.jpg', 8],
  ];
  for (const [tagged, upright, o] of cases) {
    it(`${tagged}: applying orientation ${o} gives ${upright}; ignoring it does not`, async () => {
      const t = await loadSample(tagged);
      const u = await loadSample(upright);
      expect(t.source.exifOrientation).toBe(o);
      const applied = applyExifOrientation(t.image, o);
      expect([applied.width, applied.height]).toEqual([u.image.width, u.image.height]);
      const good = meanAbsDiff(applied.data, u.image.data);
      expect(good).toBeLessThan(10); // JPEG re-encoding noise only (chelsea: ~8.4, rocket: ~4.6, coffee: ~1.7)
      if (o >= 5) {
        // Ignoring a 90° orientation changes the shape.
        expect([t.image.width, t.image.height]).toEqual([u.image.height, u.image.width]);
      } else {
        const ignored = meanAbsDiff(t.image.data, u.image.data);
        expect(ignored).toBeGreaterThan(10 * good);
      }
      // Every other orientation of the right shape is clearly worse.
      for (let other = 1; other <= 8; other++) {
        if (other === o) continue;
        const cand = applyExifOrientation(t.image, other);
        if (cand.width !== u.image.width || cand.height !== u.image.height) continue;
        expect(meanAbsDiff(cand.data, u.image.data), `orientation ${other} instead of ${o}`).toBeGreaterThan(2.5 * good);
      }
      console.log(`${tagged}: mean |applied - ${upright}| = ${good.toFixed(3)} (0..255 scale, RGBA)`);
    });
  }
});
