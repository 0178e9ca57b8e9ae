import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FloatImage, ImagePlanes } from './image.ts';
import { rgbaToRgb } from './normalize.ts';
import { centerCropRect, cropPlanes, letterboxPadding, letterboxRect, padPlanes } from './geometry.ts';
import { KEYS_CUBIC, LANCZOS3 } from './resample.ts';
import {
  fitResize,
  letterboxResizeThenPad,
  resize,
  resizeArea,
  resizeBilinear,
  resizeBicubic,
  resizeBilinearAntialias,
  resizeLanczos3,
  resizeNearest,
} from './resize.ts';
import { loadSample, maxAbsDiff, prng, tfCpu } from './test-helpers.ts';

let rgb: FloatImage; // rocket.jpg, 640x427, float RGB interleaved
let rgba8: ImagePlanes<Uint8ClampedArray | Uint8Array>; // same photo, RGBA uint8

beforeAll(async () => {
  const { image } = await loadSample('rocket.jpg');
  rgb = rgbaToRgb(image, 'ignore');
  rgba8 = { width: image.width, height: image.height, channels: 4, layout: 'interleaved', data: image.data };
});

function toPlanar<T extends ImagePlanes>(img: T): T {
  const n = img.width * img.height;
  const C = img.channels;
  const ctor = img.data.constructor as new (n: number) => T['data'];
  const out = new ctor(img.data.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[c * n + i] = img.data[i * C + c] as number;
  return { ...img, layout: 'planar', data: out };
}

const SIZES: [number, number][] = [
  [224, 224], // the usual downscale, aspect changed
  [97, 313], // odd sizes, mixed down/up
  [760, 500], // upscale
  [1, 1],
  [1, 40],
  [640, 427], // identity size
];
const COMBOS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
];

describe('resizeBilinear / resizeNearest equal TF.js cpu kernels', () => {
  const worst: Record<string, number> = {};

  for (const [w, h] of SIZES) {
    for (const [ac, hpc] of COMBOS) {
      it(`bilinear ${w}x${h} alignCorners=${ac} halfPixelCenters=${hpc} (float RGB and uint8 RGBA)`, async () => {
        const tf = await tfCpu();
        const ours = resizeBilinear(rgb, w, h, ac, hpc);
        const ref = tf.tidy(() =>
          tf.image.resizeBilinear(tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3]), [h, w], ac, hpc).dataSync(),
        );
        const d = maxAbsDiff(ours.data, ref);
        expect(d).toBeLessThanOrEqual(1e-4);
        worst['bilinear-float'] = Math.max(worst['bilinear-float'] ?? 0, d);

        const ours8 = resizeBilinear(rgba8, w, h, ac, hpc);
        const ref8 = tf.tidy(() =>
          tf.image
            .resizeBilinear(tf.tensor3d(Int32Array.from(rgba8.data), [rgba8.height, rgba8.width, 4], 'int32'), [h, w], ac, hpc)
            .dataSync(),
        );
        const d8 = maxAbsDiff(ours8.data, ref8);
        expect(d8).toBeLessThanOrEqual(1e-4);
        worst['bilinear-uint8'] = Math.max(worst['bilinear-uint8'] ?? 0, d8);
      });

      it(`nearest ${w}x${h} alignCorners=${ac} halfPixelCenters=${hpc}`, async () => {
        const tf = await tfCpu();
        const ours = resizeNearest(rgb, w, h, ac, hpc);
        const ref = tf.tidy(() =>
          tf.image.resizeNearestNeighbor(tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3]), [h, w], ac, hpc).dataSync(),
        );
        const d = maxAbsDiff(ours.data, ref);
        expect(d).toBeLessThanOrEqual(1e-4);
        worst['nearest'] = Math.max(worst['nearest'] ?? 0, d);
      });
    }
  }

  it('alignCorners + halfPixelCenters is rejected, as by TF.js', async () => {
    const tf = await tfCpu();
    expect(() => resizeBilinear(rgb, 10, 10, true, true)).toThrow(/alignCorners must be false/);
    expect(() => resizeNearest(rgb, 10, 10, true, true)).toThrow(/alignCorners must be false/);
    expect(() => tf.image.resizeBilinear(tf.zeros([4, 4, 3]) as never, [2, 2], true, true)).toThrow(/alignCorners must be false/);
  });

  it('reports the worst differences', () => {
    // Logged for the record; each case above already asserted <= 1e-4.
    console.log('max |ours - tfjs| over all sizes/combos:', JSON.stringify(worst));
    for (const v of Object.values(worst)) expect(v).toBeLessThanOrEqual(1e-4);
  });
});

describe('layouts', () => {
  it('planar input gives the planar transpose of the interleaved result, for every method', () => {
    const planar = toPlanar(rgb);
    for (const method of ['bilinear', 'nearest', 'area', 'bicubic', 'lanczos3'] as const) {
      for (const antialias of [false, true]) {
        const opts = { method, alignCorners: false, halfPixelCenters: true, antialias };
        const a = resize(rgb, 150, 90, opts);
        const b = resize(planar, 150, 90, opts);
        expect(b.layout).toBe('planar');
        expect(maxAbsDiff(toPlanar(a).data, b.data)).toBe(0);
      }
    }
  });
});

/** Straight port of TF's ResizeAreaBaseline (resize_area_op_test.cc), in float64. */
function areaBaseline(src: FloatImage, outW: number, outH: number, alignCorners: boolean): Float32Array {
  const { width: inW, height: inH, channels: C } = src;
  const scaleOf = (i: number, o: number): number => Math.fround(alignCorners && o > 1 ? (i - 1) / (o - 1) : i / o);
  const hs = scaleOf(inH, outH);
  const ws = scaleOf(inW, outW);
  const scale = 1 / (hs * ws);
  const bound = (v: number, lim: number): number => Math.min(lim - 1, Math.max(0, v));
  const out = new Float32Array(outW * outH * C);
  for (let y = 0; y < outH; y++) {
    const inY = y * hs;
    const inY1 = (y + 1) * hs;
    for (let x = 0; x < outW; x++) {
      const inX = x * ws;
      const inX1 = (x + 1) * ws;
      const sum = new Float64Array(C);
      for (let i = Math.floor(inY); i < Math.ceil(inY1); i++) {
        const sy = i < inY ? (i + 1 > inY1 ? hs : i + 1 - inY) : i + 1 > inY1 ? inY1 - i : 1;
        for (let j = Math.floor(inX); j < Math.ceil(inX1); j++) {
          const sx = j < inX ? (j + 1 > inX1 ? ws : j + 1 - inX) : j + 1 > inX1 ? inX1 - j : 1;
          for (let c = 0; c < C; c++) {
            sum[c] = (sum[c] as number) + (src.data[(bound(i, inH) * inW + bound(j, inW)) * C + c] as number) * sy * sx * scale;
          }
        }
      }
      for (let c = 0; c < C; c++) out[(y * outW + x) * C + c] = sum[c] as number;
    }
  }
  return out;
}

describe('resizeArea (TF ResizeArea / OpenCV INTER_AREA)', () => {
  it('matches the TF baseline on the photo, down and up, with and without alignCorners', () => {
    const crop = cropPlanes(rgb, { x: 200, y: 100, width: 165, height: 100 });
    for (const [w, h] of [[50, 50], [113, 57], [64, 33], [300, 299], [1, 1], [165, 100]] as [number, number][]) {
      for (const ac of [false, true]) {
        const d = maxAbsDiff(resizeArea(crop, w, h, ac).data, areaBaseline(crop, w, h, ac));
        expect(d, `${w}x${h} ac=${ac}`).toBeLessThan(1e-3);
      }
    }
  });

  it('matches the TF baseline on random data for the sizes TF tests', () => {
    const rnd = prng(7);
    for (const inW of [2, 7, 20, 165]) {
      for (const inH of [1, 3, 8, 100]) {
        const src: FloatImage = { width: inW, height: inH, channels: 3, layout: 'interleaved', data: new Float32Array(inW * inH * 3) };
        for (let i = 0; i < src.data.length; i++) src.data[i] = rnd() * 2 - 1;
        for (const th of [1, 2, 3, 50]) {
          for (const tw of [th, Math.floor(th / 2) + 1]) {
            expect(maxAbsDiff(resizeArea(src, tw, th).data, areaBaseline(src, tw, th, false))).toBeLessThan(1e-5);
          }
        }
      }
    }
  });

  it('an integer downscale is the exact block mean', () => {
    const crop = cropPlanes(rgb, { x: 0, y: 0, width: 448, height: 426 });
    const out = resizeArea(crop, 224, 213);
    for (const [x, y, c] of [[0, 0, 0], [100, 50, 1], [223, 212, 2], [17, 200, 0]] as [number, number, number][]) {
      let s = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) s += crop.data[((2 * y + (dy as number)) * 448 + 2 * x + (dx as number)) * 3 + c] as number;
      expect(out.data[(y * 224 + x) * 3 + c]).toBeCloseTo(s / 4, 4);
    }
  });
});

/** Direct (non-separable) evaluation of TF ScaleAndTranslate with the triangle kernel, antialias on. */
function antialiasReference(src: FloatImage, outW: number, outH: number): Float32Array {
  const weights = (inSize: number, outSize: number, o: number): Map<number, number> => {
    const inv = inSize / outSize;
    const ks = Math.max(inv, 1);
    const sample = (o + 0.5) * inv;
    const m = new Map<number, number>();
    let total = 0;
    for (let s = 0; s < inSize; s++) {
      const w = Math.max(0, 1 - Math.abs((s + 0.5 - sample) / ks));
      if (w > 0) {
        m.set(s, w);
        total += w;
      }
    }
    for (const [k, v] of m) m.set(k, v / total);
    return m;
  };
  const C = src.channels;
  const out = new Float32Array(outW * outH * C);
  for (let y = 0; y < outH; y++) {
    const wy = weights(src.height, outH, y);
    for (let x = 0; x < outW; x++) {
      const wx = weights(src.width, outW, x);
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (const [iy, a] of wy) for (const [ix, b] of wx) acc += a * b * (src.data[(iy * src.width + ix) * C + c] as number);
        out[(y * outW + x) * C + c] = acc;
      }
    }
  }
  return out;
}

describe('bilinear antialias (tf.image.resize antialias=True)', () => {
  it('matches a direct evaluation of the TF triangle-kernel formula when downscaling', () => {
    const crop = cropPlanes(rgb, { x: 100, y: 50, width: 200, height: 150 });
    for (const [w, h] of [[64, 48], [37, 71], [1, 1]] as [number, number][]) {
      expect(maxAbsDiff(resizeBilinearAntialias(crop, w, h).data, antialiasReference(crop, w, h))).toBeLessThan(1e-3);
    }
  });

  it('hand-computed 1-D value: 8 → 4 widens the triangle to radius 2', () => {
    const row = [0, 0, 255, 255, 0, 0, 0, 0];
    const src: FloatImage = { width: 8, height: 1, channels: 1, layout: 'interleaved', data: Float32Array.from(row) };
    const out = resizeBilinearAntialias(src, 4, 1).data;
    // out[0]: sample 1.0, inputs 0,1,2 with weights 0.75, 0.75, 0.25 (sum 1.75) → 0.25*255/1.75.
    expect(out[0]).toBeCloseTo((0.25 * 255) / 1.75, 4);
    // out[1]: sample 3.0, inputs 1..4 with weights .25 .75 .75 .25 (sum 2) → (0.75+0.75)*255/2.
    expect(out[1]).toBeCloseTo((1.5 * 255) / 2, 4);
  });

  it('upscaling with antialias equals half-pixel-centre bilinear (TF.js)', async () => {
    const tf = await tfCpu();
    const crop = cropPlanes(rgb, { x: 300, y: 200, width: 60, height: 40 });
    const ours = resizeBilinearAntialias(crop, 150, 97);
    const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(crop.data, [40, 60, 3]), [97, 150], false, true).dataSync());
    expect(maxAbsDiff(ours.data, ref)).toBeLessThan(1e-3);
  });

  it('removes aliasing that plain bilinear keeps (1-px checkerboard, 4x down)', () => {
    const n = 64;
    const data = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) data[y * n + x] = (x + y) % 2 ? 255 : 0;
    const src: FloatImage = { width: n, height: n, channels: 1, layout: 'interleaved', data };
    const aa = resizeBilinearAntialias(src, 16, 16).data;
    const plain = resizeBilinear(src, 16, 16, false, false).data;
    // Interior pixels: antialiased ≈ mid-grey, plain bilinear samples single pixels (0 or 255).
    for (let y = 2; y < 14; y++) for (let x = 2; x < 14; x++) expect(Math.abs((aa[y * 16 + x] as number) - 127.5)).toBeLessThan(20);
    expect(new Set(Array.from(plain)).size).toBeLessThanOrEqual(2);
  });

  it('keeps a constant image constant', () => {
    const src: FloatImage = { width: 37, height: 23, channels: 2, layout: 'interleaved', data: new Float32Array(37 * 23 * 2).fill(42) };
    expect(maxAbsDiff(resizeBilinearAntialias(src, 11, 5).data, new Float32Array(11 * 5 * 2).fill(42))).toBeLessThan(1e-4);
  });
});

describe('fit modes', () => {
  const bil = { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false } as const;

  it('center-crop rect is the Keras smart_resize window', () => {
    expect(centerCropRect(640, 427, 224, 224)).toEqual({ x: 106, y: 0, width: 427, height: 427 });
    expect(centerCropRect(427, 640, 224, 224)).toEqual({ x: 0, y: 106, width: 427, height: 427 });
    expect(centerCropRect(640, 427, 320, 160)).toEqual({ x: 0, y: 53, width: 640, height: 320 });
    expect(centerCropRect(640, 427, 640, 427)).toEqual({ x: 0, y: 0, width: 640, height: 427 });
  });

  it('letterbox padding brings the image to the target aspect, split floor/ceil', () => {
    expect(letterboxPadding(640, 427, 224, 224)).toEqual({ top: 106, bottom: 107, left: 0, right: 0 });
    expect(letterboxPadding(427, 640, 224, 224)).toEqual({ top: 0, bottom: 0, left: 106, right: 107 });
    expect(letterboxPadding(640, 427, 320, 240)).toEqual({ top: 26, bottom: 27, left: 0, right: 0 }); // 640x480
    expect(letterboxPadding(300, 300, 100, 100)).toEqual({ top: 0, bottom: 0, left: 0, right: 0 });
  });

  it('letterbox (canonical) = pad with the pad value, then resize the padded image', () => {
    const out = fitResize(rgb, 224, 224, 'letterbox', bil, 0);
    const padded = padPlanes(rgb, { top: 106, bottom: 107, left: 0, right: 0 }, 0);
    expect([padded.width, padded.height]).toEqual([640, 640]);
    expect(padded.data[0]).toBe(0);
    expect(padded.data[(106 * 640 + 5) * 3 + 1]).toBe(rgb.data[5 * 3 + 1]);
    expect(maxAbsDiff(out.data, resizeBilinear(padded, 224, 224, false, true).data)).toBe(0);
    // Rows whose bilinear sources are all padding are exactly the pad value.
    for (let i = 0; i < 36 * 224 * 3; i++) expect(out.data[i]).toBe(0);
    const grey = fitResize(rgb, 224, 224, 'letterbox', bil, 114);
    expect(grey.data[0]).toBe(114);
    // Planar letterbox is the transpose of the interleaved one.
    expect(maxAbsDiff(fitResize(toPlanar(rgb), 224, 224, 'letterbox', bil).data, toPlanar(out).data)).toBe(0);
  });

  it('letterboxResizeThenPad follows tf.image.resize_with_pad placement', () => {
    // 427*224/640 = 149.45 → height 149, top pad floor((224-149.45)/2) = 37.
    expect(letterboxRect(640, 427, 224, 224)).toEqual({ x: 0, y: 37, width: 224, height: 149 });
    expect(letterboxRect(427, 640, 224, 224)).toEqual({ x: 37, y: 0, width: 149, height: 224 });
    expect(letterboxRect(100, 100, 50, 80)).toEqual({ x: 0, y: 15, width: 50, height: 50 });
    const out = letterboxResizeThenPad(rgb, 224, 224, bil, 0);
    const inner = resizeBilinear(rgb, 224, 149, false, true);
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < 224; x += 37) {
        for (let c = 0; c < 3; c++) {
          const v = out.data[(y * 224 + x) * 3 + c];
          if (y < 37 || y >= 37 + 149) expect(v).toBe(0);
          else expect(v).toBe(inner.data[((y - 37) * 224 + x) * 3 + c]);
        }
      }
    }
    expect(maxAbsDiff(letterboxResizeThenPad(toPlanar(rgb), 224, 224, bil).data, toPlanar(out).data)).toBe(0);
  });

  it('cropPlanes works for planar data too', () => {
    const rect = { x: 10, y: 20, width: 30, height: 40 };
    expect(maxAbsDiff(cropPlanes(toPlanar(rgb), rect).data, toPlanar(cropPlanes(rgb, rect)).data)).toBe(0);
    expect(() => cropPlanes(rgb, { x: 630, y: 0, width: 20, height: 5 })).toThrow(RangeError);
  });
});

/** rms difference in levels over the RGB values of a uint8 RGB buffer and a float RGB image. */
function rms(a: Uint8Array | Buffer, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - Math.min(255, Math.max(0, Math.round(b[i] as number)))) ** 2;
  return Math.sqrt(s / a.length);
}

describe('bicubic (Keys a = −0.5) and Lanczos3', () => {
  it('kernel values: Catmull-Rom interpolates (1 at 0, 0 at ±1, ±2), Lanczos3 is sinc·sinc(x/3)', () => {
    expect(KEYS_CUBIC.weight(0)).toBe(1);
    expect(KEYS_CUBIC.weight(1)).toBe(0);
    expect(KEYS_CUBIC.weight(-2)).toBe(0);
    expect(KEYS_CUBIC.weight(0.5)).toBeCloseTo(0.5625, 12); // (1.5·.125 − 2.5·.25 + 1)
    expect(KEYS_CUBIC.weight(1.5)).toBeCloseTo(-0.0625, 12);
    expect(LANCZOS3.weight(0)).toBe(1);
    expect(Math.abs(LANCZOS3.weight(1))).toBeLessThan(1e-12);
    expect(LANCZOS3.weight(0.5)).toBeCloseTo(6 / Math.PI ** 2, 12);
    expect(LANCZOS3.weight(3)).toBe(0);
  });

  it('agree with sharp (libvips cubic / lanczos3) on a real photo within 0.6 levels rms, closer than any other method', async () => {
    const src = Buffer.from(Uint8Array.from(rgb.data));
    // libvips box-shrinks by an integer factor before its kernel, so it is close, not bit-equal.
    for (const [w, h] of [[224, 224], [200, 150]] as [number, number][]) {
      const viaSharp = async (kernel: 'cubic' | 'lanczos3'): Promise<Buffer> =>
        sharp(src, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).resize(w, h, { fit: 'fill', kernel }).raw().toBuffer();
      const ours = {
        bicubic: resizeBicubic(rgb, w, h, true).data,
        lanczos3: resizeLanczos3(rgb, w, h, true).data,
        others: [resizeBilinearAntialias(rgb, w, h), resizeArea(rgb, w, h), resizeBilinear(rgb, w, h, false, true), resizeBicubic(rgb, w, h, false)].map((x) => x.data),
      };
      const cubic = await viaSharp('cubic');
      const lanczos = await viaSharp('lanczos3');
      expect(rms(cubic, ours.bicubic)).toBeLessThan(0.6);
      expect(rms(lanczos, ours.lanczos3)).toBeLessThan(0.6);
      for (const other of [ours.lanczos3, ...ours.others]) expect(rms(cubic, other)).toBeGreaterThan(rms(cubic, ours.bicubic) + 0.4);
      for (const other of [ours.bicubic, ...ours.others]) expect(rms(lanczos, other)).toBeGreaterThan(rms(lanczos, ours.lanczos3) + 0.4);
    }
  });

  it('without antialias the 4-tap cubic reproduces a linear ramp exactly away from the borders (down and up)', () => {
    const W = 90;
    const data = Float32Array.from({ length: W }, (_, i) => 3 * i + 7);
    const src: FloatImage = { width: W, height: 1, channels: 1, layout: 'interleaved', data };
    for (const out of [37, 200]) {
      const r = resizeBicubic(src, out, 1, false).data;
      const scale = W / out;
      for (let o = 4; o < out - 4; o++) expect(r[o]).toBeCloseTo(3 * ((o + 0.5) * scale - 0.5) + 7, 3);
    }
  });

  it('upscaling ignores antialias; constant images stay constant; the widened kernel removes a 1-px checkerboard', () => {
    const crop = cropPlanes(rgb, { x: 300, y: 200, width: 60, height: 40 });
    expect(maxAbsDiff(resizeBicubic(crop, 150, 97, true).data, resizeBicubic(crop, 150, 97, false).data)).toBe(0);
    expect(maxAbsDiff(resizeLanczos3(crop, 150, 97, true).data, resizeLanczos3(crop, 150, 97, false).data)).toBe(0);
    const flat: FloatImage = { width: 37, height: 23, channels: 2, layout: 'interleaved', data: new Float32Array(37 * 23 * 2).fill(42) };
    for (const f of [resizeBicubic, resizeLanczos3]) expect(maxAbsDiff(f(flat, 11, 5, true).data, new Float32Array(11 * 5 * 2).fill(42))).toBeLessThan(1e-4);
    const n = 64;
    const board = new Float32Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) board[y * n + x] = (x + y) % 2 ? 255 : 0;
    const img: FloatImage = { width: n, height: n, channels: 1, layout: 'interleaved', data: board };
    for (const f of [resizeBicubic, resizeLanczos3]) {
      const aa = f(img, 16, 16, true).data;
      for (let y = 3; y < 13; y++) for (let x = 3; x < 13; x++) expect(Math.abs((aa[y * 16 + x] as number) - 127.5)).toBeLessThan(10);
    }
  });

  it('resize() dispatches the card methods and rejects alignCorners for them', () => {
    const opts = { alignCorners: false, halfPixelCenters: true, antialias: true };
    expect(maxAbsDiff(resize(rgb, 64, 48, { method: 'bicubic', ...opts }).data, resizeBicubic(rgb, 64, 48, true).data)).toBe(0);
    expect(maxAbsDiff(resize(rgb, 64, 48, { method: 'lanczos3', ...opts, antialias: false }).data, resizeLanczos3(rgb, 64, 48, false).data)).toBe(0);
    expect(() => resize(rgb, 64, 48, { method: 'lanczos3', ...opts, alignCorners: true, halfPixelCenters: false })).toThrow(/alignCorners/);
  });
});
