/**
 * EXIF orientation (tag 0x0112) as pixel permutations. Pure TypeScript, no DOM, no Node.
 *
 * The EXIF value says where the stored image's 0th row and 0th column are when the image is shown
 * upright (Exif 2.32 / TIFF 6.0, tag Orientation):
 *
 * | value | 0th row is … | 0th column is … | to display upright            |
 * |-------|--------------|-----------------|-------------------------------|
 * | 1     | top          | left            | nothing                       |
 * | 2     | top          | right           | flip horizontally             |
 * | 3     | bottom       | right           | rotate 180°                   |
 * | 4     | bottom       | left            | flip vertically               |
 * | 5     | left         | top             | transpose (flip on main diag.)|
 * | 6     | right        | top             | rotate 90° clockwise          |
 * | 7     | right        | bottom          | transverse (flip on anti-diag)|
 * | 8     | left         | bottom          | rotate 90° counter-clockwise  |
 *
 * `applyExifOrientation` turns stored pixels into the upright image; `undoExifOrientation` is its exact
 * inverse (upright → stored), used to simulate a pipeline that ignores EXIF or to undo a decoder that
 * applied it. Both are exact permutations (no resampling).
 */
import type { ImagePlanes, NumericArray, RgbaImage } from './image.ts';
import { checkImage, checkRgba, stridesOf } from './image.ts';

export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export function isExifOrientation(o: unknown): o is ExifOrientation {
  return typeof o === 'number' && Number.isInteger(o) && o >= 1 && o <= 8;
}

function checkOrientation(o: number): asserts o is ExifOrientation {
  if (!isExifOrientation(o)) throw new RangeError(`EXIF orientation must be an integer 1..8, got ${o}`);
}

/** Orientations 5..8 swap width and height. */
export function swapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

/** The orientation whose application undoes `orientation` (6 ↔ 8; the others are their own inverse). */
export function inverseOrientation(orientation: number): ExifOrientation {
  checkOrientation(orientation);
  return orientation === 6 ? 8 : orientation === 8 ? 6 : orientation;
}

/** Size of the image after applying `orientation` to a stored width × height image. */
export function orientedSize(width: number, height: number, orientation: number): { width: number; height: number } {
  return swapsAxes(orientation) ? { width: height, height: width } : { width, height };
}

/**
 * Source pixel of displayed pixel (x', y') for a stored W × H image:
 * ix = ax·x' + bx·y' + cx, iy = ay·x' + by·y' + cy.
 */
function sourceMap(o: ExifOrientation, W: number, H: number): [number, number, number, number, number, number] {
  switch (o) {
    case 1: return [1, 0, 0, 0, 1, 0];
    case 2: return [-1, 0, W - 1, 0, 1, 0];
    case 3: return [-1, 0, W - 1, 0, -1, H - 1];
    case 4: return [1, 0, 0, 0, -1, H - 1];
    case 5: return [0, 1, 0, 1, 0, 0];
    case 6: return [0, 1, 0, -1, 0, H - 1];
    case 7: return [0, -1, W - 1, -1, 0, H - 1];
    case 8: return [0, -1, W - 1, 1, 0, 0];
  }
}

/**
 * Apply an EXIF orientation to any multi-channel image (interleaved or planar, any element type).
 * Returns a new image of the same element type and layout.
 */
export function orientPlanes<T extends NumericArray>(img: ImagePlanes<T>, orientation: number): ImagePlanes<T> {
  checkOrientation(orientation);
  checkImage(img, 'orientPlanes');
  const W = img.width;
  const H = img.height;
  const C = img.channels;
  const out = orientedSize(W, H, orientation);
  const ctor = img.data.constructor as new (n: number) => T;
  const dst = new ctor(img.data.length);
  const src = img.data;
  const [ax, bx, cx, ay, by, cy] = sourceMap(orientation, W, H);
  const s = stridesOf(img);
  const d = stridesOf({ width: out.width, height: out.height, channels: C, layout: img.layout });
  // Source offset moves by dX per output column and dY per output row.
  const dX = ax * s.pixel + ay * s.row;
  const dY = bx * s.pixel + by * s.row;
  const base = cx * s.pixel + cy * s.row;
  // Tiled so that 90° rotations (strided source reads) stay cache-friendly.
  const T = 64;
  for (let c = 0; c < C; c++) {
    const sc = base + c * s.channel;
    const dc = c * d.channel;
    for (let ty = 0; ty < out.height; ty += T) {
      const yEnd = Math.min(out.height, ty + T);
      for (let tx = 0; tx < out.width; tx += T) {
        const xEnd = Math.min(out.width, tx + T);
        for (let y = ty; y < yEnd; y++) {
          let si = sc + y * dY + tx * dX;
          let di = dc + y * d.row + tx * d.pixel;
          for (let x = tx; x < xEnd; x++) {
            dst[di] = src[si] as number;
            si += dX;
            di += d.pixel;
          }
        }
      }
    }
  }
  return { width: out.width, height: out.height, channels: C, layout: img.layout, data: dst };
}

/** Stored pixels → upright image, per the EXIF orientation (1..8). */
export function applyExifOrientation(img: RgbaImage, orientation: number): RgbaImage {
  checkRgba(img, 'applyExifOrientation');
  checkOrientation(orientation);
  if (orientation === 1) return { width: img.width, height: img.height, data: img.data.slice() };
  const { width, height, data } = img;
  if (data.byteOffset % 4 === 0) {
    // Fast path: move whole RGBA pixels as 32-bit words (endianness is irrelevant for a permutation).
    const words = new Uint32Array(data.buffer, data.byteOffset, width * height);
    const r = orientPlanes({ width, height, channels: 1, layout: 'interleaved', data: words }, orientation);
    const bytes = new Uint8ClampedArray(r.data.buffer);
    return { width: r.width, height: r.height, data: data instanceof Uint8Array ? new Uint8Array(r.data.buffer) : bytes };
  }
  const r = orientPlanes({ width, height, channels: 4, layout: 'interleaved', data }, orientation);
  return { width: r.width, height: r.height, data: r.data };
}

/** Upright image → stored pixels: the exact inverse of `applyExifOrientation(img, orientation)`. */
export function undoExifOrientation(img: RgbaImage, orientation: number): RgbaImage {
  return applyExifOrientation(img, inverseOrientation(orientation));
}
