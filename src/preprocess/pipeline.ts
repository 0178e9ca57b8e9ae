/**
 * The canonical pre-processing: one model card `PreprocessSpec` → the exact input tensor.
 * Pure TypeScript on typed arrays: no DOM, no Node (runs unchanged in the browser and in Node).
 *
 * Order (see docs/preprocess.md):
 *   1. EXIF orientation        (spec.exif === 'apply'; stored pixels → upright)
 *   2. alpha                   (ignore: drop; premultiply: rgb·a/255)        RGBA uint8 → RGB float
 *   3. fit + resize            (stretch | center-crop | letterbox, in float, on RGB)
 *   4. channel order           (rgb | bgr | grayscale)
 *   5. normalisation           ((x·scale − mean[c]) / std[c], float32 per op)
 *   6. layout + batch          (NHWC [1,H,W,C] | NCHW [1,C,H,W])
 *   7. dtype                   (float32 | int32 truncated | uint8 truncated + saturated, stored as int32)
 *
 * Each step is exported by its own module so a diagnosis can swap one step for a candidate variant.
 */
import type { PreprocessSpec } from '../trace/types.ts';
import type { FloatImage, RgbaImage } from './image.ts';
import { checkRgba, rgbaPlanes } from './image.ts';
import { castToDType, normalizeChannels, perChannel, reorderChannels, rgbaToRgb, toTensorLayout } from './normalize.ts';
import { applyExifOrientation, isExifOrientation } from './orientation.ts';
import { fitResize } from './resize.ts';

export interface PreprocessResult {
  data: Float32Array | Int32Array;
  /** [1, H, W, C] (nhwc) or [1, C, H, W] (nchw). */
  shape: number[];
  /** `uint8` specs produce int32 values in [0, 255]. */
  dtype: 'float32' | 'int32';
}

/** Letterbox padding, in pixel units before normalisation (0 = black). */
export const LETTERBOX_PAD_VALUE = 0;

/** Throws a RangeError naming the first problem of a spec; returns silently when it is usable. */
export function validatePreprocessSpec(spec: PreprocessSpec): void {
  const bad = (msg: string): never => {
    throw new RangeError(`invalid preprocess spec: ${msg}`);
  };
  if (!Number.isInteger(spec.width) || spec.width < 1) bad(`width must be a positive integer, got ${spec.width}`);
  if (!Number.isInteger(spec.height) || spec.height < 1) bad(`height must be a positive integer, got ${spec.height}`);
  const r = spec.resize;
  if (!r || !['bilinear', 'nearest', 'area', 'bicubic', 'lanczos3'].includes(r.method)) bad(`resize.method must be bilinear|nearest|area|bicubic|lanczos3`);
  if ((r.method === 'bicubic' || r.method === 'lanczos3') && r.alignCorners) bad(`resize: ${r.method} samples at pixel centres, alignCorners must be false`);
  if (r.method !== 'area' && r.alignCorners && r.halfPixelCenters) {
    bad('resize: halfPixelCenters and alignCorners cannot both be true (TF.js rejects it)');
  }
  if (r.method === 'bilinear' && r.antialias && r.alignCorners) bad('resize: antialias bilinear cannot use alignCorners');
  if (r.prescale !== undefined && (r.prescale !== 'mip-level' || r.method !== 'bilinear' || !r.halfPixelCenters || r.antialias)) {
    bad(`resize: prescale ${String(r.prescale)} needs 'mip-level' with bilinear, halfPixelCenters and no antialias`);
  }
  if (!['stretch', 'center-crop', 'letterbox'].includes(spec.fit)) bad(`fit must be stretch|center-crop|letterbox, got ${spec.fit}`);
  if (!['rgb', 'bgr', 'grayscale'].includes(spec.channels)) bad(`channels must be rgb|bgr|grayscale, got ${spec.channels}`);
  if (!['nhwc', 'nchw'].includes(spec.layout)) bad(`layout must be nhwc|nchw, got ${spec.layout}`);
  if (!['float32', 'int32', 'uint8'].includes(spec.dtype)) bad(`dtype must be float32|int32|uint8, got ${spec.dtype}`);
  if (!['apply', 'ignore'].includes(spec.exif)) bad(`exif must be apply|ignore, got ${spec.exif}`);
  if (!['ignore', 'premultiply'].includes(spec.alpha)) bad(`alpha must be ignore|premultiply, got ${spec.alpha}`);
  if (!Number.isFinite(spec.scale)) bad(`scale must be finite, got ${spec.scale}`);
  const C = spec.channels === 'grayscale' ? 1 : 3;
  try {
    perChannel(spec.mean, C, 'mean');
    perChannel(spec.std, C, 'std');
  } catch (e) {
    bad((e as Error).message);
  }
  if (spec.std.some((v) => v === 0 || !Number.isFinite(v))) bad(`std must be finite and non-zero, got [${spec.std.join(', ')}]`);
  if (spec.mean.some((v) => !Number.isFinite(v))) bad(`mean must be finite, got [${spec.mean.join(', ')}]`);
  if (spec.grayWeights !== undefined) {
    if (spec.grayWeights.length !== 3 || spec.grayWeights.some((v) => !Number.isFinite(v))) bad('grayWeights must be 3 finite numbers');
  }
}

/** Interleaved 4-channel float image → its first 3 channels. */
function dropAlpha(img: FloatImage): FloatImage {
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[3 * i] = img.data[4 * i] as number;
    out[3 * i + 1] = img.data[4 * i + 1] as number;
    out[3 * i + 2] = img.data[4 * i + 2] as number;
  }
  return { width: img.width, height: img.height, channels: 3, layout: 'interleaved', data: out };
}

/** Steps 1–3: orientation, alpha, fit + resize. Returns float RGB (interleaved) at spec size. */
export function preprocessToRgb(img: RgbaImage, orientation: number, spec: PreprocessSpec): FloatImage {
  checkRgba(img, 'preprocess');
  if (!isExifOrientation(orientation)) throw new RangeError(`preprocess: EXIF orientation must be 1..8, got ${orientation}`);
  const oriented = spec.exif === 'apply' && orientation !== 1 ? applyExifOrientation(img, orientation) : img;
  if (spec.alpha === 'ignore') {
    // Same numbers as resizing the float RGB copy (channels are resized independently and uint8 → float
    // is exact), without materialising a float copy of a possibly 12-megapixel photo.
    return dropAlpha(fitResize(rgbaPlanes(oriented), spec.width, spec.height, spec.fit, spec.resize, LETTERBOX_PAD_VALUE));
  }
  const rgb = rgbaToRgb(oriented, spec.alpha);
  return fitResize(rgb, spec.width, spec.height, spec.fit, spec.resize, LETTERBOX_PAD_VALUE);
}

/**
 * Run the whole canonical pipeline.
 * @param img the decoded, stored pixels (EXIF orientation not applied).
 * @param orientation the file's EXIF orientation 1..8 (1 when absent); used only when spec.exif = 'apply'.
 */
export function preprocess(img: RgbaImage, orientation: number, spec: PreprocessSpec): PreprocessResult {
  validatePreprocessSpec(spec);
  const resized = preprocessToRgb(img, orientation, spec);
  const ordered = reorderChannels(resized, spec.channels, spec.grayWeights);
  const normalized = normalizeChannels(ordered, spec.scale, spec.mean, spec.std);
  const { data, shape } = toTensorLayout(normalized, spec.layout);
  const cast = castToDType(data, spec.dtype);
  return { data: cast.data, shape, dtype: cast.dtype };
}
