/**
 * Photo reductions for the input search (input-search.ts): small float RGB planes of the original photo,
 * alpha handled, for the coarse stage. Pure: no DOM, no Node.
 */
import type { PreprocessSpec } from '../trace/types.ts';
import type { ImagePlanes, RgbaImage } from '../preprocess/image.ts';
import { rgbaPlanes } from '../preprocess/image.ts';
import { rgbaToRgb } from '../preprocess/normalize.ts';
import { resizeArea } from '../preprocess/resize.ts';
import { interleavedToPlanar, type Planar } from './fit.ts';

type Alpha = PreprocessSpec['alpha'];

/** Fraction of pixels with alpha < 255. */
export function transparentFraction(img: RgbaImage): number {
  const n = img.width * img.height;
  let t = 0;
  for (let i = 3; i < img.data.length; i += 4) if ((img.data[i] as number) < 255) t++;
  return n === 0 ? 0 : t / n;
}

/**
 * Integer box shrink of RGBA bytes by `k` in both directions (partial edge blocks averaged over what
 * they hold), alpha handled: float RGB planes. Fast and approximate: only for the coarse stage.
 */
function boxShrinkRgb(img: RgbaImage, k: number, alpha: Alpha): ImagePlanes<Float32Array> {
  const w = Math.ceil(img.width / k);
  const h = Math.ceil(img.height / k);
  const n = w * h;
  const sum = new Float64Array(n * 3);
  const cnt = new Float64Array(n);
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    const oy = ((y / k) | 0) * w;
    for (let x = 0; x < img.width; x++) {
      const o = oy + ((x / k) | 0);
      const i = 4 * (y * img.width + x);
      const a = alpha === 'premultiply' ? (src[i + 3] as number) / 255 : 1;
      sum[o] = (sum[o] as number) + (src[i] as number) * a;
      sum[n + o] = (sum[n + o] as number) + (src[i + 1] as number) * a;
      sum[2 * n + o] = (sum[2 * n + o] as number) + (src[i + 2] as number) * a;
      cnt[o] = (cnt[o] as number) + 1;
    }
  }
  const out = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) for (let o = 0; o < n; o++) out[c * n + o] = (sum[c * n + o] as number) / (cnt[o] as number);
  return { width: w, height: h, channels: 3, layout: 'planar', data: out };
}

/** Planar float RGB of a photo, alpha handled, box-reduced so its long side is ≤ maxSide. */
export function reducedRgb(img: RgbaImage, alpha: Alpha, maxSide: number): ImagePlanes<Float32Array> {
  const long = Math.max(img.width, img.height);
  const k = Math.floor(long / (2 * maxSide));
  if (k >= 2) {
    // Large photo: a cheap integer shrink first, then the area resize from a small image.
    const small = boxShrinkRgb(img, k, alpha);
    const f = Math.min(1, maxSide / Math.max(small.width, small.height));
    const w = Math.max(1, Math.round(small.width * f));
    const h = Math.max(1, Math.round(small.height * f));
    const r = resizeArea(small, w, h);
    return { width: w, height: h, channels: 3, layout: 'planar', data: r.data };
  }
  const f = Math.min(1, maxSide / long);
  const w = Math.max(1, Math.round(img.width * f));
  const h = Math.max(1, Math.round(img.height * f));
  if (alpha === 'ignore') {
    const r = resizeArea(rgbaPlanes(img), w, h);
    // Drop alpha: interleaved 4 → planar 3.
    const n = w * h;
    const out = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = r.data[4 * i + c] as number;
    return { width: w, height: h, channels: 3, layout: 'planar', data: out };
  }
  const rgb = rgbaToRgb(img, alpha);
  const r = resizeArea(rgb, w, h);
  const p = interleavedToPlanar(r.data, w, h, 3);
  return { width: w, height: h, channels: 3, layout: 'planar', data: p.data };
}

export function areaToPlanar(src: Planar, w: number, h: number): Planar {
  const r = resizeArea({ width: src.width, height: src.height, channels: src.channels, layout: 'planar', data: src.data }, w, h);
  return { width: w, height: h, channels: src.channels, data: r.data };
}
