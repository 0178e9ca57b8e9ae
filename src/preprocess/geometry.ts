/**
 * Crop, pad and letterbox geometry for the resizers (resize.ts): exact integer arithmetic on typed
 * arrays, any layout and channel count. Pure: no DOM, no Node.
 */
import type { FloatImage, ImagePlanes } from './image.ts';
import { checkImage, stridesOf } from './image.ts';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * center-crop: the largest central window of the target aspect ratio (Keras `smart_resize`):
 * cropH = min(H, floor(W·dstH/dstW)), cropW = min(W, floor(H·dstW/dstH)), offsets floor((size − crop)/2).
 * Exact integer arithmetic.
 */
export function centerCropRect(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Rect {
  const cropH = Math.max(1, Math.min(srcHeight, Math.floor((srcWidth * dstHeight) / dstWidth)));
  const cropW = Math.max(1, Math.min(srcWidth, Math.floor((srcHeight * dstWidth) / dstHeight)));
  return {
    x: Math.floor((srcWidth - cropW) / 2),
    y: Math.floor((srcHeight - cropH) / 2),
    width: cropW,
    height: cropH,
  };
}

export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * letterbox (canonical): the zero-padding that brings a srcWidth × srcHeight image to the target aspect
 * ratio before resizing. The padded size along the short side is round(long side · target ratio); the
 * padding is split floor(total / 2) before and the rest after.
 */
export function letterboxPadding(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Padding {
  if (srcWidth * dstHeight > srcHeight * dstWidth) {
    // Too wide: pad rows.
    const total = Math.max(0, Math.round((srcWidth * dstHeight) / dstWidth) - srcHeight);
    const top = Math.floor(total / 2);
    return { top, bottom: total - top, left: 0, right: 0 };
  }
  const total = Math.max(0, Math.round((srcHeight * dstWidth) / dstHeight) - srcWidth);
  const left = Math.floor(total / 2);
  return { top: 0, bottom: 0, left, right: total - left };
}

/**
 * Alternative letterbox geometry (`tf.image.resize_with_pad`: resize first, then pad): where the
 * aspect-preserving resized image sits inside the dst canvas. The limiting side fills the canvas, the
 * other is floor(size · ratio), the offset floor((dst − unfloored resized size) / 2). Exact rational
 * arithmetic (TF's float32 maths can land 1 px lower in rare cases).
 */
export function letterboxRect(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Rect {
  if (srcWidth * dstHeight >= srcHeight * dstWidth) {
    // Width-limited.
    const hFloat = (srcHeight * dstWidth) / srcWidth;
    return { x: 0, y: Math.max(0, Math.floor((dstHeight - hFloat) / 2)), width: dstWidth, height: Math.max(1, Math.floor(hFloat)) };
  }
  const wFloat = (srcWidth * dstHeight) / srcHeight;
  return { x: Math.max(0, Math.floor((dstWidth - wFloat) / 2)), y: 0, width: Math.max(1, Math.floor(wFloat)), height: dstHeight };
}

/** A copy of `img` with `padding` added around it, filled with `padValue` (same element type and layout). */
export function padPlanes<T extends ImagePlanes>(img: T, padding: Padding, padValue = 0): T {
  checkImage(img, 'padPlanes');
  const { top, bottom, left, right } = padding;
  if ([top, bottom, left, right].some((v) => !Number.isInteger(v) || v < 0)) throw new RangeError('padPlanes: padding must be non-negative integers');
  const width = img.width + left + right;
  const height = img.height + top + bottom;
  const ctor = img.data.constructor as new (n: number) => T['data'];
  const data = new ctor(width * height * img.channels);
  if (padValue !== 0) data.fill(padValue);
  const out = { ...img, width, height, data };
  const C = img.channels;
  const s = stridesOf(img);
  const d = stridesOf(out);
  if (img.layout === 'interleaved') {
    for (let r = 0; r < img.height; r++) data.set(img.data.subarray(r * s.row, (r + 1) * s.row), (top + r) * d.row + left * C);
  } else {
    for (let ch = 0; ch < C; ch++) {
      for (let r = 0; r < img.height; r++) {
        const from = ch * s.channel + r * s.row;
        data.set(img.data.subarray(from, from + img.width), ch * d.channel + (top + r) * d.row + left);
      }
    }
  }
  return out;
}

/** Copy a rectangle out of an image (same element type and layout). */
export function cropPlanes<T extends ImagePlanes>(img: T, rect: Rect): T {
  checkImage(img, 'cropPlanes');
  const { x, y, width, height } = rect;
  if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > img.width || y + height > img.height) {
    throw new RangeError(`cropPlanes: rect ${width}x${height}+${x}+${y} outside ${img.width}x${img.height}`);
  }
  const C = img.channels;
  const ctor = img.data.constructor as new (n: number) => T['data'];
  const data = new ctor(width * height * C);
  const s = stridesOf(img);
  if (img.layout === 'interleaved') {
    for (let r = 0; r < height; r++) {
      const from = (y + r) * s.row + x * C;
      data.set(img.data.subarray(from, from + width * C), r * width * C);
    }
  } else {
    for (let ch = 0; ch < C; ch++) {
      for (let r = 0; r < height; r++) {
        const from = ch * s.channel + (y + r) * s.row + x;
        data.set(img.data.subarray(from, from + width), ch * width * height + r * width);
      }
    }
  }
  return { ...img, width, height, data };
}

/** Paste `img` into a new dst-sized float image at `rect`, filling the rest with `padValue`. */
export function padInto(img: FloatImage, dstWidth: number, dstHeight: number, rect: Rect, padValue = 0): FloatImage {
  if (img.width !== rect.width || img.height !== rect.height) throw new RangeError('padInto: image size differs from rect');
  if (rect.x < 0 || rect.y < 0 || rect.x + rect.width > dstWidth || rect.y + rect.height > dstHeight) {
    throw new RangeError('padInto: rect outside destination');
  }
  const C = img.channels;
  const out: FloatImage = { width: dstWidth, height: dstHeight, channels: C, layout: img.layout, data: new Float32Array(dstWidth * dstHeight * C) };
  if (padValue !== 0) out.data.fill(padValue);
  const s = stridesOf(img);
  const d = stridesOf(out);
  if (img.layout === 'interleaved') {
    for (let r = 0; r < img.height; r++) {
      out.data.set(img.data.subarray(r * s.row, (r + 1) * s.row), (rect.y + r) * d.row + rect.x * C);
    }
  } else {
    for (let ch = 0; ch < C; ch++) {
      for (let r = 0; r < img.height; r++) {
        const from = ch * s.channel + r * s.row;
        out.data.set(img.data.subarray(from, from + img.width), ch * d.channel + (rect.y + r) * d.row + rect.x);
      }
    }
  }
  return out;
}
