/**
 * Image containers shared by the pre-processing steps. Pure data: no DOM, no Node.
 */
import type { InputSource } from '../trace/types.ts';

/** A decoded 8-bit image: RGBA, row-major, straight (not premultiplied) alpha, `width * height * 4` bytes. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** What both decoders (Node: sharp, browser: createImageBitmap) return. */
export interface DecodedImage {
  /** Pixels as stored in the file: EXIF orientation NOT applied (see `source.exifOrientation`). */
  image: RgbaImage;
  source: InputSource;
}

/** Any numeric typed array a resize can read. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Int16Array
  | Int32Array
  | Uint32Array;

/**
 * Memory order of a multi-channel image without batch dimension:
 * `interleaved` = HWC (pixel after pixel, channels adjacent), `planar` = CHW (one full plane per channel).
 */
export type PixelLayout = 'interleaved' | 'planar';

/** A multi-channel image of any element type, interleaved (HWC) or planar (CHW). */
export interface ImagePlanes<T extends NumericArray = NumericArray> {
  width: number;
  height: number;
  channels: number;
  layout: PixelLayout;
  data: T;
}

/** The float form every step after decoding works on. */
export type FloatImage = ImagePlanes<Float32Array>;

/** Element strides of an image: index = y * row + x * pixel + c * channel. */
export interface Strides {
  row: number;
  pixel: number;
  channel: number;
}

export function stridesOf(img: { width: number; height: number; channels: number; layout: PixelLayout }): Strides {
  return img.layout === 'interleaved'
    ? { row: img.width * img.channels, pixel: img.channels, channel: 1 }
    : { row: img.width, pixel: 1, channel: img.width * img.height };
}

/** Throws a RangeError when `data` does not hold exactly width * height * channels elements. */
export function checkImage(img: ImagePlanes, what = 'image'): void {
  const { width, height, channels } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`${what}: bad channel count ${channels}`);
  if (img.data.length !== width * height * channels) {
    throw new RangeError(
      `${what}: data has ${img.data.length} elements, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
}

export function checkRgba(img: RgbaImage, what = 'image'): void {
  checkImage({ ...img, channels: 4, layout: 'interleaved' }, what);
}

/** View an RgbaImage as a 4-channel interleaved ImagePlanes (no copy). */
export function rgbaPlanes(img: RgbaImage): ImagePlanes<Uint8Array | Uint8ClampedArray> {
  return { width: img.width, height: img.height, channels: 4, layout: 'interleaved', data: img.data };
}
