/**
 * Model inputs resized by someone else's resampler (sharp/libvips, a browser canvas), for the resize
 * diagnosis tests and benchmark: the card's geometry (EXIF orientation, alpha dropped, crop or pad)
 * with exray's own steps, the resize by the external resampler, then the card's channel order,
 * normalisation, layout and dtype with exray's own steps again. Only the resampler differs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type KernelEnum } from 'sharp';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { centerCropRect, cropPlanes, letterboxPadding, padPlanes } from '../src/preprocess/geometry.ts';
import type { FloatImage, RgbaImage } from '../src/preprocess/image.ts';
import { castToDType, normalizeChannels, reorderChannels, rgbaToRgb, toTensorLayout } from '../src/preprocess/normalize.ts';
import { applyExifOrientation } from '../src/preprocess/orientation.ts';
import type { PreprocessSpec } from '../src/trace/types.ts';

export type SharpKernel = keyof KernelEnum;

/** Interleaved uint8 RGB, what an external resizer takes and gives. */
export interface Rgb8 {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Steps 1–3 up to the resize: orientation, alpha dropped, crop or pad for the card's fit. */
export function geometryForResize(img: RgbaImage, orientation: number, spec: PreprocessSpec): Rgb8 {
  if (spec.alpha !== 'ignore') throw new Error('resize-helpers: only alpha "ignore" cards');
  const oriented = spec.exif === 'apply' && orientation !== 1 ? applyExifOrientation(img, orientation) : img;
  let rgb = rgbaToRgb(oriented, 'ignore');
  if (spec.fit === 'center-crop') {
    const r = centerCropRect(rgb.width, rgb.height, spec.width, spec.height);
    if (r.width !== rgb.width || r.height !== rgb.height) rgb = cropPlanes(rgb, r);
  } else if (spec.fit === 'letterbox') {
    const p = letterboxPadding(rgb.width, rgb.height, spec.width, spec.height);
    if (p.top + p.bottom + p.left + p.right > 0) rgb = padPlanes(rgb, p, 0);
  }
  return { width: rgb.width, height: rgb.height, data: Uint8Array.from(rgb.data) };
}

/** Steps 4–7 after the resize: the card's channels, normalisation, layout and dtype. */
export function finishTensor(resized: Rgb8, spec: PreprocessSpec): { data: Float32Array | Int32Array; shape: number[] } {
  const rgb: FloatImage = { width: resized.width, height: resized.height, channels: 3, layout: 'interleaved', data: Float32Array.from(resized.data) };
  const t = toTensorLayout(normalizeChannels(reorderChannels(rgb, spec.channels, spec.grayWeights), spec.scale, spec.mean, spec.std), spec.layout);
  return { data: castToDType(t.data, spec.dtype).data, shape: t.shape };
}

export async function sharpResize(src: Rgb8, width: number, height: number, kernel: SharpKernel): Promise<Rgb8> {
  const data = await sharp(Buffer.from(src.data.buffer, src.data.byteOffset, src.data.byteLength), { raw: { width: src.width, height: src.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data) };
}

/** The card's input for a photo, resized by sharp with `kernel`. */
export async function sharpInput(img: RgbaImage, orientation: number, spec: PreprocessSpec, kernel: SharpKernel): Promise<{ data: Float32Array | Int32Array; shape: number[] }> {
  return finishTensor(await sharpResize(geometryForResize(img, orientation, spec), spec.width, spec.height, kernel), spec);
}

/** Canvas drawImage fixtures (scripts/make-canvas-resize.ts): photo × quality, stretched to SIZE × SIZE. */
export const CANVAS_DIR = 'test/fixtures/canvas-resize';
export const CANVAS_QUALITIES = ['low', 'medium', 'high'] as const;
export type CanvasQuality = (typeof CANVAS_QUALITIES)[number];

export interface CanvasFixture {
  photo: string;
  quality: CanvasQuality;
  /** Chromium's output, RGB. */
  resized: Rgb8;
}

export const sizeLabel = (w: number, h: number): string => (w === h ? `${w}` : `${w}x${h}`);

/** Read one canvas fixture (Chromium's getImageData, stored as PNG: exact). */
export async function canvasFixture(photo: string, quality: CanvasQuality, width: number, height: number): Promise<CanvasFixture> {
  const d = await decodeImageFile(join(CANVAS_DIR, `${photo.replace(/\.[a-z]+$/, '')}-${sizeLabel(width, height)}-${quality}.png`));
  const n = d.image.width * d.image.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = d.image.data[4 * i + c]!;
  return { photo, quality, resized: { width: d.image.width, height: d.image.height, data } };
}

export interface CanvasManifest {
  chromium: string;
  photos: string[];
  /** '224' or '192x48'. */
  sizes: string[];
}

export function canvasManifest(): CanvasManifest {
  return JSON.parse(readFileSync(join(CANVAS_DIR, 'manifest.json'), 'utf8')) as CanvasManifest;
}
