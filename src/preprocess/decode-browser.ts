/**
 * Browser decoder: Blob → stored RGBA pixels (EXIF orientation NOT applied) + InputSource.
 * Browser only (createImageBitmap, OffscreenCanvas); works in a window or a worker, over https or plain http.
 * Not unit-tested in Node; the pure parts it relies on (exif.ts, orientation.ts) are.
 *
 * Goal: the same bytes as decode-node.ts (sharp) before orientation. Why each option (details and
 * sources in docs/preprocess.md):
 * - imageOrientation 'none': ask for the stored pixels. The spec renamed the old 'none' (which
 *   *applied* EXIF) to 'from-image'; a 'none' that ignores EXIF is specified only in an open WHATWG PR,
 *   so a browser may still rotate. We therefore probe once what the browser does and undo its rotation
 *   with `undoExifOrientation` (an exact pixel permutation) when it applied one.
 * - premultiplyAlpha 'none': keep straight alpha, as stored in the file and as sharp returns it.
 * - colorSpaceConversion 'none': no ICC / gamma conversion, like sharp with `ignoreIcc: true`.
 * - Pixels are read through WebGL2 when the image has transparency: a 2D canvas stores premultiplied
 *   pixels, so getImageData can change RGB where alpha < 255 (and loses it where alpha = 0).
 */
import { ExrayInputError } from '../errors.ts';
import { readImageHeader, withJpegExifOrientation } from './exif.ts';
import { readIccProfileName } from './icc.ts';
import type { DecodedImage, RgbaImage } from './image.ts';
import { undoExifOrientation } from './orientation.ts';
import { sha256Hex } from '../trace/sha256.ts';

const BITMAP_OPTIONS: ImageBitmapOptions = {
  imageOrientation: 'none', // we apply EXIF ourselves (and undo it if the browser did anyway)
  premultiplyAlpha: 'none',
  colorSpaceConversion: 'none',
};

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}


/** RGBA through a 2D canvas (premultiplied internally: exact only where alpha = 255). */
function readPixels2d(bitmap: ImageBitmap): RgbaImage {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  if (!ctx) throw new Error('no 2d context');
  ctx.drawImage(bitmap, 0, 0);
  const id = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  return { width, height, data: id.data };
}

/** RGBA through a WebGL2 texture + readPixels: straight alpha, exact. Null when WebGL2 is unusable. */
function readPixelsWebGL(bitmap: ImageBitmap): RgbaImage | null {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext('webgl2', { premultipliedAlpha: false, antialias: false });
  if (!gl) return null;
  try {
    if (width > gl.getParameter(gl.MAX_TEXTURE_SIZE) || height > gl.getParameter(gl.MAX_TEXTURE_SIZE)) return null;
    const tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    const fb = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return null;
    const data = new Uint8ClampedArray(width * height * 4);
    // Texture row 0 is the bitmap's top row (no UNPACK_FLIP_Y), and readPixels returns row 0 first.
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, data);
    if (gl.getError() !== gl.NO_ERROR) return null;
    gl.deleteFramebuffer(fb);
    gl.deleteTexture(tex);
    return { width, height, data };
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

function hasTransparency(img: RgbaImage): boolean {
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) return true;
  return false;
}

let probe: Promise<boolean> | undefined;

/**
 * Whether this browser rotates pixels for EXIF orientation despite `imageOrientation: 'none'`.
 * Probed once: a 2×1 JPEG encoded here, tagged orientation 6; a rotating browser returns 1×2.
 */
export function browserAppliesExifOrientation(): Promise<boolean> {
  probe ??= (async () => {
    const canvas = new OffscreenCanvas(2, 1);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, 2, 1);
    const jpeg = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg' })).arrayBuffer());
    const tagged = withJpegExifOrientation(jpeg, 6);
    const bitmap = await createImageBitmap(new Blob([tagged as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }), BITMAP_OPTIONS);
    const rotated = bitmap.width === 1 && bitmap.height === 2;
    bitmap.close();
    return rotated;
  })();
  return probe;
}

/**
 * Decode an image Blob (File) in the browser.
 * @throws ExrayInputError when the blob is empty, not an image, or cannot be decoded.
 */
export async function decodeImageBlob(blob: Blob, fileName: string): Promise<DecodedImage> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  if (bytes.length === 0) throw new ExrayInputError(fileName, 'empty file (0 bytes)');
  const header = readImageHeader(bytes);
  if (!header) throw new ExrayInputError(fileName, `not a supported image file (${bytes.length} bytes, unrecognised format)`);
  const orientation = header.orientation;

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, BITMAP_OPTIONS);
  } catch (e) {
    throw new ExrayInputError(fileName, `truncated or corrupt ${header.mimeType} data: ${errorText(e)}`);
  }
  let image: RgbaImage;
  try {
    image = readPixels2d(bitmap);
    if (hasTransparency(image)) image = readPixelsWebGL(bitmap) ?? image;
  } finally {
    bitmap.close();
  }

  if (orientation !== 1) {
    // Did the browser rotate? The stored size from the header decides for 90° orientations on
    // non-square images; otherwise fall back to the probe.
    const { width: w, height: h } = header;
    let applied: boolean;
    if (w !== undefined && h !== undefined && w !== h && orientation >= 5) applied = image.width === h && image.height === w;
    else applied = await browserAppliesExifOrientation();
    if (applied) image = undoExifOrientation(image, orientation);
  }

  const iccProfile = await readIccProfileName(bytes);
  return {
    image,
    source: {
      fileName,
      sha256: await sha256Hex(bytes),
      width: image.width,
      height: image.height,
      exifOrientation: orientation,
      mimeType: header.mimeType,
      ...(iccProfile ? { iccProfile } : {}),
    },
  };
}
