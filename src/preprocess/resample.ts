/**
 * Separable resampling: per-axis weight spans (box/area, or a kernel — triangle, Keys cubic,
 * Lanczos3 — widened by the downscale factor when antialiased, TF's ScaleAndTranslate) applied rows
 * then columns. resize.ts builds its area, antialiased-bilinear, bicubic and Lanczos3 resizers on it.
 * Pure TypeScript on typed arrays: no DOM, no Node.
 */
import type { FloatImage, ImagePlanes } from './image.ts';
import { checkImage } from './image.ts';

export function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: output size must be positive integers, got ${width}x${height}`);
  }
}

export function emptyLike(src: ImagePlanes, width: number, height: number): FloatImage {
  return {
    width,
    height,
    channels: src.channels,
    layout: src.layout,
    data: new Float32Array(width * height * src.channels),
  };
}

/**
 * Separable resampling weights along one axis: output i reads input `index[k]` with weight `weight[k]`
 * for k in [offset[i], offset[i+1]). Indices are already clamped into the input.
 */
export interface Spans {
  offset: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

function buildSpans(outSize: number, perOutput: (i: number, push: (index: number, weight: number) => void) => void): Spans {
  const offset = new Int32Array(outSize + 1);
  const index: number[] = [];
  const weight: number[] = [];
  const push = (i: number, w: number): void => {
    index.push(i);
    weight.push(w);
  };
  for (let i = 0; i < outSize; i++) {
    perOutput(i, push);
    offset[i + 1] = index.length;
  }
  return { offset, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/**
 * TF ResizeArea weights along one axis, already divided by the axis scale (TF multiplies the sum by
 * 1 / (height_scale * width_scale); splitting it per axis is the same product).
 * scale = in/out, or (in-1)/(out-1) with alignCorners and out > 1 (TF's CalculateResizeScale).
 */
export function areaSpans(inSize: number, outSize: number, alignCorners = false): Spans {
  if (inSize === 1) return buildSpans(outSize, (_i, push) => push(0, 1)); // degenerate axis: copy
  const scale = Math.fround(alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize);
  const bound = (v: number): number => Math.min(inSize - 1, Math.max(0, v));
  return buildSpans(outSize, (o, push) => {
    const in0 = o * scale;
    const in1 = (o + 1) * scale;
    const start = Math.floor(in0);
    const end = Math.ceil(in1);
    for (let i = start; i < end; i++) {
      const w = i < in0 ? (i + 1 > in1 ? scale : i + 1 - in0) : i + 1 > in1 ? in1 - i : 1;
      push(bound(i), w / scale);
    }
  });
}

/** A separable resampling kernel: its weight at distance x (in kernel units) and its support radius. */
export interface Kernel {
  radius: number;
  weight: (x: number) => number;
}

/** Triangle (tent): bilinear. */
export const TRIANGLE: Kernel = { radius: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) };

/**
 * Keys cubic convolution with a = −0.5 (Catmull-Rom): TF's KeysCubicKernel (scale_and_translate_op.cc),
 * PIL's BICUBIC, libvips' `cubic`. OpenCV's INTER_CUBIC uses a = −0.75 (sharper); not modelled.
 */
export const KEYS_CUBIC: Kernel = {
  radius: 2,
  weight: (t) => {
    const x = Math.abs(t);
    if (x >= 2) return 0;
    if (x >= 1) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return (1.5 * x - 2.5) * x * x + 1;
  },
};

/** Lanczos, a = 3: sinc(x)·sinc(x/3) on |x| < 3 (TF's Lanczos3Kernel, PIL's LANCZOS, libvips' `lanczos3`). */
export const LANCZOS3: Kernel = {
  radius: 3,
  weight: (t) => {
    const x = Math.abs(t);
    if (x >= 3) return 0;
    if (x < 1e-6) return 1;
    const px = Math.PI * x;
    return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
  },
};

/**
 * TF ScaleAndTranslate weights (translate 0) for a kernel along one axis: sample = (i + 0.5) · in/out;
 * with `antialias` the kernel is widened by max(in/out, 1) (PIL's and libvips' downscale rule too);
 * weights renormalised to sum 1 (at the borders this is TF's and PIL's clamp-free rule).
 */
export function kernelSpans(inSize: number, outSize: number, kernel: Kernel, antialias = true): Spans {
  const invScale = inSize / outSize;
  const kernelScale = antialias ? Math.max(invScale, 1) : 1;
  const { radius } = kernel;
  return buildSpans(outSize, (o, push) => {
    const sample = (o + 0.5) * invScale;
    if (sample < 0 || sample > inSize) return;
    const start = Math.min(inSize - 1, Math.max(0, Math.ceil(sample - radius * kernelScale - 0.5)));
    const end = Math.min(inSize - 1, Math.max(0, Math.floor(sample + radius * kernelScale - 0.5))) + 1;
    let total = 0;
    const ws: number[] = [];
    for (let s = start; s < end; s++) {
      const w = kernel.weight((s + 0.5 - sample) / kernelScale);
      ws.push(w);
      total += w;
    }
    if (Math.abs(total) < 1000 * 1.1754943508222875e-38) return; // TF: 1000 * FLT_MIN
    for (let k = 0; k < ws.length; k++) push(start + k, (ws[k] as number) / total);
  });
}

/**
 * TF ScaleAndTranslate weights (translate 0) for the triangle kernel along one axis:
 * sample = (i + 0.5) · in/out; with `antialias` the kernel is widened by max(in/out, 1).
 */
export function triangleSpans(inSize: number, outSize: number, antialias = true): Spans {
  return kernelSpans(inSize, outSize, TRIANGLE, antialias);
}

/**
 * Apply separable spans: rows first (input height → output height), then columns, like TF's
 * ScaleAndTranslate. Accumulates in float64, stores float32.
 */
export function resampleSeparable(src: ImagePlanes, width: number, height: number, rows: Spans, cols: Spans): FloatImage {
  checkImage(src, 'resampleSeparable');
  checkSize(width, height, 'resampleSeparable');
  if (rows.offset.length !== height + 1 || cols.offset.length !== width + 1) {
    throw new RangeError('resampleSeparable: spans do not match the output size');
  }
  const C = src.channels;
  const W = src.width;
  const out = emptyLike(src, width, height);
  const x = src.data;
  // Planar data is C independent single-channel images; interleaved rows are W·C contiguous values.
  const planes = src.layout === 'planar' ? C : 1;
  const pc = src.layout === 'planar' ? 1 : C; // values per pixel within a plane
  const rowLen = W * pc;
  const inPlane = W * src.height * pc;
  const outPlane = width * height * pc;
  const tmp = new Float64Array(height * rowLen); // output rows × input columns
  for (let p = 0; p < planes; p++) {
    tmp.fill(0);
    const sp = p * inPlane;
    // Rows: tmp[r] = Σ w · src[row], contiguous over the whole row.
    for (let r = 0; r < height; r++) {
      const t0 = r * rowLen;
      for (let k = rows.offset[r] as number; k < (rows.offset[r + 1] as number); k++) {
        const w = rows.weight[k] as number;
        const s0 = sp + (rows.index[k] as number) * rowLen;
        for (let j = 0; j < rowLen; j++) tmp[t0 + j] = (tmp[t0 + j] as number) + w * (x[s0 + j] as number);
      }
    }
    // Columns.
    const op = p * outPlane;
    for (let r = 0; r < height; r++) {
      const t0 = r * rowLen;
      let di = op + r * width * pc;
      for (let c = 0; c < width; c++) {
        const k0 = cols.offset[c] as number;
        const k1 = cols.offset[c + 1] as number;
        for (let ch = 0; ch < pc; ch++) {
          let acc = 0;
          for (let k = k0; k < k1; k++) acc += (cols.weight[k] as number) * (tmp[t0 + (cols.index[k] as number) * pc + ch] as number);
          out.data[di++] = acc;
        }
      }
    }
  }
  return out;
}
