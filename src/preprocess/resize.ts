/**
 * Image resizing and fit modes. Pure TypeScript on typed arrays: no DOM, no Node.
 *
 * - `bilinear` / `nearest` mirror the index arithmetic of the TF.js cpu kernels
 *   (tfjs-backend-cpu ResizeBilinear.js / ResizeNearestNeighbor.js, 4.22) line by line: float64 maths,
 *   result stored as float32, so the output equals `tf.image.resizeBilinear(x, size, alignCorners,
 *   halfPixelCenters)` / `tf.image.resizeNearestNeighbor(...)` on the cpu backend bit for bit.
 * - `area` is TensorFlow's ResizeArea (tensorflow/core/kernels/image/resize_area_op.cc): every output
 *   pixel is the mean of the input box it covers, partially covered pixels weighted by their overlap.
 *   For downscaling this is OpenCV's INTER_AREA; for upscaling TF (and we) keep the box rule while
 *   OpenCV switches to a bilinear-like rule.
 * - `antialias` (bilinear only) is TF's `tf.image.resize(..., 'bilinear', antialias=True)`, i.e. the
 *   ScaleAndTranslate op with a triangle kernel (scale_and_translate_op.cc): the triangle is widened by
 *   the downscale factor (kernel_scale = max(in/out, 1)), weights are renormalised at the borders, pixel
 *   centres at +0.5. Upscaling with it equals half-pixel-centre bilinear.
 *
 * - `bicubic` (Keys, a = −0.5) and `lanczos3` use the same ScaleAndTranslate machinery with their own
 *   kernels, antialiased or not: TF's `tf.image.resize(..., 'bicubic' | 'lanczos3', antialias)`, and with
 *   antialias PIL's BICUBIC / LANCZOS. libvips (sharp) `cubic` / `lanczos3` first box-shrinks by an integer
 *   factor then applies the kernel: close to ours (resize.test.ts measures how close), not bit-equal.
 *
 * All resizers accept any numeric typed array, interleaved (HWC) or planar (CHW), any channel count,
 * and return a Float32Array image with the same layout and channel count.
 */
import type { PreprocessSpec } from '../trace/types.ts';
import type { FloatImage, ImagePlanes } from './image.ts';
import { checkImage, stridesOf } from './image.ts';
import { centerCropRect, cropPlanes, letterboxPadding, letterboxRect, padInto, padPlanes } from './geometry.ts';
import { resizeCanvasLow } from './resize-canvas.ts';
import { areaSpans, checkSize, emptyLike, kernelSpans, KEYS_CUBIC, LANCZOS3, resampleSeparable, triangleSpans } from './resample.ts';

export type ResizeMethod = PreprocessSpec['resize']['method'];
export type ResizeOptions = PreprocessSpec['resize'];
export type FitMode = PreprocessSpec['fit'];

function checkCornerFlags(alignCorners: boolean, halfPixelCenters: boolean, what: string): void {
  // Same precondition (and message) as tf.image.resizeBilinear / resizeNearestNeighbor.
  if (alignCorners && halfPixelCenters) {
    throw new RangeError(`Error in ${what}: If halfPixelCenters is true, alignCorners must be false.`);
  }
}

/** `effectiveInputSize / effectiveOutputSize` exactly as the TF.js kernels compute it. */
function tfjsRatio(inSize: number, outSize: number, alignCorners: boolean): number {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  return effIn / effOut;
}

/** What the TF.js-style resizers share: checks, sizes, ratios, the output image and both strides. */
function resizeSetup(src: ImagePlanes, width: number, height: number, alignCorners: boolean, halfPixelCenters: boolean, what: string) {
  checkImage(src, what);
  checkSize(width, height, what);
  checkCornerFlags(alignCorners, halfPixelCenters, what);
  const out = emptyLike(src, width, height);
  return {
    oldH: src.height,
    oldW: src.width,
    C: src.channels,
    rowRatio: tfjsRatio(src.height, height, alignCorners),
    colRatio: tfjsRatio(src.width, width, alignCorners),
    out,
    s: stridesOf(src),
    d: stridesOf(out),
  };
}

/** tf.image.resizeBilinear semantics (TF.js cpu kernel index arithmetic). */
export function resizeBilinear(
  src: ImagePlanes,
  width: number,
  height: number,
  alignCorners = false,
  halfPixelCenters = false,
): FloatImage {
  const { oldH, oldW, C, rowRatio, colRatio, out, s, d } = resizeSetup(src, width, height, alignCorners, halfPixelCenters, 'resizeBilinear');
  const x = src.data;
  const res = out.data;

  // Per-column source offsets and fractions (identical for every row).
  const colLeft = new Int32Array(width);
  const colRight = new Int32Array(width);
  const colFrac = new Float64Array(width);
  for (let c = 0; c < width; c++) {
    const f = halfPixelCenters ? colRatio * (c + 0.5) - 0.5 : colRatio * c;
    const lo = Math.max(0, Math.floor(f));
    colFrac[c] = f - lo;
    colLeft[c] = lo * s.pixel;
    colRight[c] = Math.min(oldW - 1, Math.ceil(f)) * s.pixel;
  }
  for (let r = 0; r < height; r++) {
    const f = halfPixelCenters ? rowRatio * (r + 0.5) - 0.5 : rowRatio * r;
    const lo = Math.max(0, Math.floor(f));
    const rowFrac = f - lo;
    const top = lo * s.row;
    const bot = Math.min(oldH - 1, Math.ceil(f)) * s.row;
    for (let ch = 0; ch < C; ch++) {
      const sc = ch * s.channel;
      let di = r * d.row + ch * d.channel;
      for (let c = 0; c < width; c++) {
        const l = colLeft[c] as number;
        const rr = colRight[c] as number;
        const cf = colFrac[c] as number;
        const topLeft = x[sc + top + l] as number;
        const topRight = x[sc + top + rr] as number;
        const bottomLeft = x[sc + bot + l] as number;
        const bottomRight = x[sc + bot + rr] as number;
        const t = topLeft + (topRight - topLeft) * cf;
        const b = bottomLeft + (bottomRight - bottomLeft) * cf;
        res[di] = t + (b - t) * rowFrac;
        di += d.pixel;
      }
    }
  }
  return out;
}

/** tf.image.resizeNearestNeighbor semantics (TF.js cpu kernel index arithmetic). */
export function resizeNearest(
  src: ImagePlanes,
  width: number,
  height: number,
  alignCorners = false,
  halfPixelCenters = false,
): FloatImage {
  const { oldH, oldW, C, rowRatio, colRatio, out, s, d } = resizeSetup(src, width, height, alignCorners, halfPixelCenters, 'resizeNearestNeighbor');
  const nearest = (ratio: number, i: number, max: number): number => {
    const f = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    const n = Math.min(max - 1, alignCorners ? Math.round(f) : Math.floor(f));
    return halfPixelCenters ? Math.max(0, n) : n;
  };
  const colOff = new Int32Array(width);
  for (let c = 0; c < width; c++) colOff[c] = nearest(colRatio, c, oldW) * s.pixel;
  for (let r = 0; r < height; r++) {
    const rowOff = nearest(rowRatio, r, oldH) * s.row;
    for (let ch = 0; ch < C; ch++) {
      const base = rowOff + ch * s.channel;
      let di = r * d.row + ch * d.channel;
      for (let c = 0; c < width; c++) {
        out.data[di] = src.data[base + (colOff[c] as number)] as number;
        di += d.pixel;
      }
    }
  }
  return out;
}

/** TF ResizeArea (box average; OpenCV INTER_AREA when downscaling). */
export function resizeArea(src: ImagePlanes, width: number, height: number, alignCorners = false): FloatImage {
  checkImage(src, 'resizeArea');
  checkSize(width, height, 'resizeArea');
  return resampleSeparable(src, width, height, areaSpans(src.height, height, alignCorners), areaSpans(src.width, width, alignCorners));
}

/** `tf.image.resize(x, size, 'bilinear', antialias=true)`: triangle filter widened by the downscale factor. */
export function resizeBilinearAntialias(src: ImagePlanes, width: number, height: number): FloatImage {
  checkImage(src, 'resizeBilinearAntialias');
  checkSize(width, height, 'resizeBilinearAntialias');
  return resampleSeparable(src, width, height, triangleSpans(src.height, height), triangleSpans(src.width, width));
}

/**
 * Keys bicubic (a = −0.5) at pixel centres. `antialias`: the kernel widened by the downscale factor
 * (PIL's `Image.resize(BICUBIC)`, `tf.image.resize(..., 'bicubic', antialias=True)`); without it the
 * kernel keeps its 4-tap support (`tf.image.resize(..., 'bicubic')`, TF1 `resize_bicubic` with
 * half_pixel_centers).
 */
export function resizeBicubic(src: ImagePlanes, width: number, height: number, antialias = true): FloatImage {
  checkImage(src, 'resizeBicubic');
  checkSize(width, height, 'resizeBicubic');
  return resampleSeparable(src, width, height, kernelSpans(src.height, height, KEYS_CUBIC, antialias), kernelSpans(src.width, width, KEYS_CUBIC, antialias));
}

/**
 * Lanczos3 at pixel centres. `antialias` (PIL's `LANCZOS` and sharp's default downscale): the kernel
 * widened by the downscale factor; without it 6 taps (`tf.image.resize(..., 'lanczos3')`).
 */
export function resizeLanczos3(src: ImagePlanes, width: number, height: number, antialias = true): FloatImage {
  checkImage(src, 'resizeLanczos3');
  checkSize(width, height, 'resizeLanczos3');
  return resampleSeparable(src, width, height, kernelSpans(src.height, height, LANCZOS3, antialias), kernelSpans(src.width, width, LANCZOS3, antialias));
}

/**
 * Resize with the options of a model card's spec.
 * - bilinear: TF.js resizeBilinear(alignCorners, halfPixelCenters); with `antialias` TF's antialiased
 *   resize instead (always pixel-centre sampling: halfPixelCenters is implied, alignCorners must be false).
 * - nearest: TF.js resizeNearestNeighbor(alignCorners, halfPixelCenters); `antialias` is ignored (as in TF).
 * - area: TF ResizeArea(alignCorners); `halfPixelCenters` and `antialias` are ignored (as in TF).
 * - bicubic / lanczos3: pixel-centre sampling (halfPixelCenters implied, alignCorners must be false),
 *   antialiased when `antialias`.
 * - prescale 'mip-level': Chromium's canvas drawImage, 'low' quality (resize-canvas.ts).
 */
export function resize(src: ImagePlanes, width: number, height: number, opts: ResizeOptions): FloatImage {
  if (opts.prescale === 'mip-level') {
    if (opts.method !== 'bilinear' || !opts.halfPixelCenters || opts.antialias) throw new RangeError(`resize: prescale 'mip-level' (canvas drawImage) needs bilinear with halfPixelCenters and no antialias, got ${opts.method}`);
    return resizeCanvasLow(src, width, height);
  }
  switch (opts.method) {
    case 'bilinear':
      if (opts.antialias) {
        if (opts.alignCorners) throw new RangeError('resize: antialias bilinear cannot be combined with alignCorners');
        return resizeBilinearAntialias(src, width, height);
      }
      return resizeBilinear(src, width, height, opts.alignCorners, opts.halfPixelCenters);
    case 'nearest':
      return resizeNearest(src, width, height, opts.alignCorners, opts.halfPixelCenters);
    case 'area':
      return resizeArea(src, width, height, opts.alignCorners);
    case 'bicubic':
    case 'lanczos3':
      if (opts.alignCorners) throw new RangeError(`resize: ${opts.method} cannot be combined with alignCorners`);
      return opts.method === 'bicubic' ? resizeBicubic(src, width, height, opts.antialias) : resizeLanczos3(src, width, height, opts.antialias);
    default:
      throw new RangeError(`resize: unknown method ${String((opts as { method: unknown }).method)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fit modes
// ---------------------------------------------------------------------------------------------

/**
 * Fit + resize to exactly dstWidth × dstHeight.
 * - stretch: resize the whole image (aspect ratio not kept).
 * - center-crop: crop `centerCropRect`, then resize the crop.
 * - letterbox: pad to the target aspect ratio (`letterboxPadding`) with `padValue` (pixel units, default
 *   0 = black, before normalisation), then resize the padded image. The resize filter therefore blends
 *   the image edge with the padding, as in pipelines that `tf.pad` then `tf.image.resizeBilinear`.
 *   `letterboxResizeThenPad` is the other common variant.
 */
export function fitResize(
  src: ImagePlanes,
  dstWidth: number,
  dstHeight: number,
  fit: FitMode,
  opts: ResizeOptions,
  padValue = 0,
): FloatImage {
  checkSize(dstWidth, dstHeight, 'fitResize');
  switch (fit) {
    case 'stretch':
      return resize(src, dstWidth, dstHeight, opts);
    case 'center-crop': {
      const rect = centerCropRect(src.width, src.height, dstWidth, dstHeight);
      const cropped = rect.width === src.width && rect.height === src.height ? src : cropPlanes(src, rect);
      return resize(cropped, dstWidth, dstHeight, opts);
    }
    case 'letterbox': {
      const p = letterboxPadding(src.width, src.height, dstWidth, dstHeight);
      const padded = p.top + p.bottom + p.left + p.right === 0 ? src : padPlanes(src, p, padValue);
      return resize(padded, dstWidth, dstHeight, opts);
    }
    default:
      throw new RangeError(`fitResize: unknown fit ${String(fit)}`);
  }
}

/**
 * The other letterbox (`tf.image.resize_with_pad`): resize to `letterboxRect` keeping the aspect ratio,
 * then pad to dstWidth × dstHeight with `padValue`. Sharp edge between image and padding.
 */
export function letterboxResizeThenPad(
  src: ImagePlanes,
  dstWidth: number,
  dstHeight: number,
  opts: ResizeOptions,
  padValue = 0,
): FloatImage {
  checkSize(dstWidth, dstHeight, 'letterboxResizeThenPad');
  const rect = letterboxRect(src.width, src.height, dstWidth, dstHeight);
  const resized = resize(src, rect.width, rect.height, opts);
  if (rect.width === dstWidth && rect.height === dstHeight) return resized;
  return padInto(resized, dstWidth, dstHeight, rect, padValue);
}
