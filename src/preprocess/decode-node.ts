/**
 * Node decoder (sharp / libvips). Produces the stored pixels — EXIF orientation NOT applied, we apply it
 * explicitly in the pipeline — as straight-alpha RGBA bytes, plus the InputSource record.
 *
 * sharp settings and why (mirrors decode-browser.ts, see docs/preprocess.md):
 * - no `.rotate()` / `autoOrient: false`: keep the stored orientation; the EXIF value is read by our
 *   own parser (exif.ts), the same code the browser uses.
 * - `ignoreIcc: true`: no colour management, like `colorSpaceConversion: 'none'` in the browser.
 * - `.toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' })`: 8-bit RGBA whatever the file
 *   holds (grey, grey+alpha, palette, 16-bit), alpha 255 when absent, never premultiplied.
 * - `failOn: 'error'`: truncated or corrupt pixel data is an error; mere warnings are not.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import sharp from 'sharp';
import { ExrayInputError } from '../errors.ts';
import { checkLimit, limits } from '../limits.ts';
import { readInputBytes } from '../read-input.ts';
import { readImageHeader } from './exif.ts';
import { readIccProfileName } from './icc.ts';
import type { DecodedImage, RgbaImage } from './image.ts';

const MIME_BY_SHARP_FORMAT: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
  heif: 'image/heif',
  svg: 'image/svg+xml',
  jp2k: 'image/jp2',
  jxl: 'image/jxl',
  bmp: 'image/bmp',
};

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Expand 1..4-channel 8-bit raw pixels to RGBA (in case libvips did not give 4 channels). */
function toRgba(data: Uint8Array, width: number, height: number, channels: number): Uint8ClampedArray {
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  if (channels === 4) {
    out.set(data.subarray(0, n * 4));
    return out;
  }
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const g = data[s] as number;
    const [r, gg, b, a] =
      channels === 1 ? [g, g, g, 255] : channels === 2 ? [g, g, g, data[s + 1] as number] : [g, data[s + 1] as number, data[s + 2] as number, 255];
    out[4 * i] = r;
    out[4 * i + 1] = gg;
    out[4 * i + 2] = b;
    out[4 * i + 3] = a;
  }
  return out;
}

/**
 * Decode an encoded image held in memory. `fileName` is only used for the record and error messages.
 * @throws ExrayInputError when the bytes are empty, not an image, or truncated/corrupt.
 */
export async function decodeImageBytes(bytes: Uint8Array, fileName: string): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ExrayInputError(fileName, 'empty file (0 bytes)');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const header = readImageHeader(bytes);
  let format: string | undefined;
  let headerWidth: number | undefined;
  let headerHeight: number | undefined;
  try {
    const meta = await sharp(bytes, { failOn: 'error', ignoreIcc: true, autoOrient: false, limitInputPixels: false }).metadata();
    format = meta.format;
    headerWidth = meta.width;
    headerHeight = meta.height;
  } catch (e) {
    const msg = errorText(e);
    if (/unsupported image format/i.test(msg)) {
      throw new ExrayInputError(fileName, `not a supported image file (${bytes.length} bytes, unrecognised format)`);
    }
    throw new ExrayInputError(fileName, `corrupt image header: ${msg}`);
  }
  // Pixels from the header, before anything is decoded (docs/limits.md); sharp enforces the same cap.
  const maxPixels = limits().imagePixels;
  if (headerWidth !== undefined && headerHeight !== undefined) {
    checkLimit(fileName, 'imagePixels', headerWidth * headerHeight, `the image's pixel count (${headerWidth}×${headerHeight})`);
  }
  let raw: { data: Buffer; info: sharp.OutputInfo };
  try {
    raw = await sharp(bytes, { failOn: 'error', ignoreIcc: true, autoOrient: false, limitInputPixels: Math.max(1, maxPixels) })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ExrayInputError(fileName, `truncated or corrupt ${format ?? 'image'} data: ${errorText(e)}`);
  }
  const { width, height, channels } = raw.info;
  if (raw.data.length < width * height * channels || channels < 1 || channels > 4) {
    throw new ExrayInputError(fileName, `decoder returned ${raw.data.length} bytes for ${width}x${height}x${channels}`);
  }
  const data = toRgba(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.length), width, height, channels);
  const image: RgbaImage = { width, height, data };
  const mimeType = header?.mimeType ?? (format !== undefined ? MIME_BY_SHARP_FORMAT[format] : undefined) ?? 'application/octet-stream';
  const iccProfile = await readIccProfileName(bytes);
  return {
    image,
    source: {
      fileName,
      sha256,
      width,
      height,
      exifOrientation: header?.orientation ?? 1,
      mimeType,
      ...(iccProfile ? { iccProfile } : {}),
    },
  };
}

/**
 * Read and decode an image file. `source.fileName` is the base name of `path`; error messages name the
 * path as given.
 * @throws ExrayInputError for a missing/unreadable file, a non-image, or truncated/corrupt image data.
 */
export async function decodeImageFile(path: string): Promise<DecodedImage> {
  // A regular file (no /dev/zero, FIFO or socket) within EXRAY_MAX_FILE_BYTES: docs/limits.md.
  const bytes = await readInputBytes(path);
  try {
    const decoded = await decodeImageBytes(bytes, path);
    decoded.source.fileName = basename(path);
    return decoded;
  } catch (e) {
    if (e instanceof ExrayInputError) throw e;
    throw new ExrayInputError(path, `cannot decode image (${errorText(e)})`);
  }
}
