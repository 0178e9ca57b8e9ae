/**
 * Procedural test photos for the pure diagnosis tests (not part of the public API): colour gradients,
 * overlapping shapes and fine texture, deterministic. Real photos are used by test/diagnose*.test.ts.
 */
import type { RgbaImage } from '../preprocess/image.ts';
import type { PreprocessSpec } from '../trace/types.ts';
import { rng } from '../compare/synthetic.ts';

export function syntheticPhoto(width = 320, height = 240, seed = 7, options: { alpha?: boolean } = {}): RgbaImage {
  const r = rng(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  const shapes = Array.from({ length: 12 }, () => ({
    cx: r() * width,
    cy: r() * height,
    rad: 10 + r() * Math.min(width, height) * 0.3,
    col: [r() * 255, r() * 255, r() * 255],
    square: r() < 0.4,
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let c = [(255 * x) / width, (255 * y) / height, 128 + 100 * Math.sin((x + 2 * y) / 23)];
      for (const s of shapes) {
        const dx = x - s.cx;
        const dy = y - s.cy;
        const inside = s.square ? Math.max(Math.abs(dx), Math.abs(dy)) < s.rad * 0.7 : dx * dx + dy * dy < s.rad * s.rad;
        if (inside) c = s.col.map((v, k) => 0.35 * (c[k] as number) + 0.65 * v);
      }
      const t = 12 * Math.sin(x * 0.9) * Math.cos(y * 0.7) + 6 * (r() - 0.5);
      const i = 4 * (y * width + x);
      data[i] = (c[0] as number) + t;
      data[i + 1] = (c[1] as number) + 0.8 * t;
      data[i + 2] = (c[2] as number) - 0.5 * t;
      data[i + 3] = options.alpha ? Math.max(0, Math.min(255, 255 * (1.6 - Math.hypot(x - width / 2, y - height / 2) / (0.35 * width)))) : 255;
    }
  }
  return { width, height, data };
}

/** ±1 level per channel, deterministic: what a different JPEG decoder does. */
export function decoderNoise(img: RgbaImage, seed = 3): RgbaImage {
  const r = rng(seed);
  const data = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? (img.data[i] as number) : (img.data[i] as number) + Math.round(2 * r() - 1);
  return { width: img.width, height: img.height, data };
}

/** A MobileNet-style card spec (align-corners bilinear, RGB NHWC, [0, 1]) at size × size. */
export function mobilenetSpec(size: number): PreprocessSpec {
  return {
    width: size,
    height: size,
    resize: { method: 'bilinear', alignCorners: true, halfPixelCenters: false, antialias: false },
    fit: 'stretch',
    channels: 'rgb',
    layout: 'nhwc',
    scale: 1 / 255,
    mean: [0],
    std: [1],
    dtype: 'float32',
    exif: 'apply',
    alpha: 'ignore',
  };
}
