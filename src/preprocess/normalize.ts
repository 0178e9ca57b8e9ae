/**
 * Per-pixel steps of the canonical pre-processing: alpha handling, channel order, normalisation,
 * layout and dtype. Pure TypeScript on typed arrays: no DOM, no Node.
 *
 * Arithmetic follows what a TF.js op chain does on the cpu backend: every elementwise op rounds its
 * result to float32 (`Math.fround` after each op), so `(x * scale - mean) / std` here equals
 * `x.mul(scale).sub(mean).div(std)` bit for bit.
 */
import type { PreprocessSpec } from '../trace/types.ts';
import type { FloatImage, RgbaImage } from './image.ts';
import { checkImage, checkRgba } from './image.ts';

export type AlphaMode = PreprocessSpec['alpha'];
export type ChannelOrder = PreprocessSpec['channels'];
export type TensorLayout = PreprocessSpec['layout'];
export type OutputDType = PreprocessSpec['dtype'];

/** ITU-R BT.601 luma weights (r, g, b): the default for `channels: 'grayscale'`. */
export const ITU_R_601_WEIGHTS: readonly [number, number, number] = [0.299, 0.587, 0.114];

/**
 * RGBA bytes → float RGB (interleaved, 3 channels, values in [0, 255]).
 * - `ignore`: the stored RGB, alpha dropped (what a pipeline that never looks at alpha feeds).
 * - `premultiply`: rgb · alpha / 255, kept fractional (not re-quantised to 8 bits).
 */
export function rgbaToRgb(img: RgbaImage, alpha: AlphaMode): FloatImage {
  checkRgba(img, 'rgbaToRgb');
  const n = img.width * img.height;
  const src = img.data;
  const out = new Float32Array(n * 3);
  if (alpha === 'ignore') {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      out[3 * i] = src[j] as number;
      out[3 * i + 1] = src[j + 1] as number;
      out[3 * i + 2] = src[j + 2] as number;
    }
  } else if (alpha === 'premultiply') {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const a = src[j + 3] as number;
      out[3 * i] = ((src[j] as number) * a) / 255;
      out[3 * i + 1] = ((src[j + 1] as number) * a) / 255;
      out[3 * i + 2] = ((src[j + 2] as number) * a) / 255;
    }
  } else {
    throw new RangeError(`rgbaToRgb: unknown alpha mode ${String(alpha)}`);
  }
  return { width: img.width, height: img.height, channels: 3, layout: 'interleaved', data: out };
}

/**
 * RGB (3 channels, either layout) → the model's channel order: `rgb` (copy), `bgr` (reverse), or
 * `grayscale` (1 channel, wr·r + wg·g + wb·b computed in float64, stored float32).
 */
export function reorderChannels(
  img: FloatImage,
  channels: ChannelOrder,
  grayWeights: readonly [number, number, number] = ITU_R_601_WEIGHTS,
): FloatImage {
  checkImage(img, 'reorderChannels');
  if (img.channels !== 3) throw new RangeError(`reorderChannels: expected 3 channels (RGB), got ${img.channels}`);
  const n = img.width * img.height;
  const src = img.data;
  // Element offset of channel c of pixel i.
  const interleaved = img.layout === 'interleaved';
  const at = (i: number, c: number): number => (interleaved ? 3 * i + c : c * n + i);
  if (channels === 'rgb') return { ...img, data: src.slice() };
  if (channels === 'bgr') {
    const out = new Float32Array(src.length);
    for (let i = 0; i < n; i++) {
      out[at(i, 0)] = src[at(i, 2)] as number;
      out[at(i, 1)] = src[at(i, 1)] as number;
      out[at(i, 2)] = src[at(i, 0)] as number;
    }
    return { ...img, data: out };
  }
  if (channels === 'grayscale') {
    const [wr, wg, wb] = grayWeights;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = wr * (src[at(i, 0)] as number) + wg * (src[at(i, 1)] as number) + wb * (src[at(i, 2)] as number);
    }
    return { width: img.width, height: img.height, channels: 1, layout: img.layout, data: out };
  }
  throw new RangeError(`reorderChannels: unknown channel order ${String(channels)}`);
}

/** Expand a per-channel parameter (length 1 = broadcast, or one per channel). */
export function perChannel(values: readonly number[], channels: number, what: string): number[] {
  if (values.length === channels) return [...values];
  if (values.length === 1) return new Array<number>(channels).fill(values[0] as number);
  throw new RangeError(`${what}: expected 1 or ${channels} values, got ${values.length}`);
}

/**
 * value = (x · scale − mean[c]) / std[c], c in the image's channel order (mean/std are given in the
 * model's channel order, e.g. B, G, R for `bgr`). Each op rounds to float32 like a TF.js op chain.
 */
export function normalizeChannels(
  img: FloatImage,
  scale: number,
  mean: readonly number[],
  std: readonly number[],
): FloatImage {
  checkImage(img, 'normalizeChannels');
  const C = img.channels;
  const m = perChannel(mean, C, 'normalize mean').map(Math.fround);
  const sd = perChannel(std, C, 'normalize std').map(Math.fround);
  if (!Number.isFinite(scale)) throw new RangeError(`normalize: scale must be finite, got ${scale}`);
  if (sd.some((v) => v === 0 || !Number.isFinite(v))) throw new RangeError(`normalize: std must be finite and non-zero, got [${std.join(', ')}]`);
  if (m.some((v) => !Number.isFinite(v))) throw new RangeError(`normalize: mean must be finite, got [${mean.join(', ')}]`);
  const k = Math.fround(scale);
  const fr = Math.fround;
  const n = img.width * img.height;
  const src = img.data;
  const out = new Float32Array(src.length);
  for (let c = 0; c < C; c++) {
    const mc = m[c] as number;
    const sc = sd[c] as number;
    if (img.layout === 'interleaved') {
      for (let i = c; i < src.length; i += C) out[i] = fr(fr(fr((src[i] as number) * k) - mc) / sc);
    } else {
      for (let i = c * n; i < (c + 1) * n; i++) out[i] = fr(fr(fr((src[i] as number) * k) - mc) / sc);
    }
  }
  return { ...img, data: out };
}

/** Batch-of-1 tensor in the model's layout: NHWC [1, H, W, C] or NCHW [1, C, H, W]. */
export function toTensorLayout(img: FloatImage, layout: TensorLayout): { data: Float32Array; shape: number[] } {
  checkImage(img, 'toTensorLayout');
  const { width: W, height: H, channels: C } = img;
  const want = layout === 'nhwc' ? 'interleaved' : layout === 'nchw' ? 'planar' : null;
  if (want === null) throw new RangeError(`toTensorLayout: unknown layout ${String(layout)}`);
  const shape = layout === 'nhwc' ? [1, H, W, C] : [1, C, H, W];
  if (img.layout === want || C === 1) return { data: img.data, shape };
  const n = W * H;
  const src = img.data;
  const out = new Float32Array(src.length);
  if (want === 'planar') {
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[c * n + i] = src[i * C + c] as number;
  } else {
    for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[i * C + c] = src[c * n + i] as number;
  }
  return { data: out, shape };
}

/**
 * Final element type. `float32` as is. `int32`: truncation toward zero, like TF.js `.toInt()` /
 * `.cast('int32')` (NaN → 0). `uint8`: truncation, then saturation to [0, 255]; returned as int32
 * values because traces store integer inputs as int32.
 */
export function castToDType(data: Float32Array, dtype: OutputDType): { data: Float32Array | Int32Array; dtype: 'float32' | 'int32' } {
  if (dtype === 'float32') return { data, dtype: 'float32' };
  if (dtype !== 'int32' && dtype !== 'uint8') throw new RangeError(`castToDType: unknown dtype ${String(dtype)}`);
  const out = new Int32Array(data.length);
  if (dtype === 'int32') {
    for (let i = 0; i < data.length; i++) out[i] = data[i] as number; // ToInt32: truncation toward zero
  } else {
    for (let i = 0; i < data.length; i++) {
      const v = Math.trunc(data[i] as number);
      out[i] = v > 255 ? 255 : v > 0 ? v : 0; // NaN and negatives → 0
    }
  }
  return { data: out, dtype: 'int32' };
}
