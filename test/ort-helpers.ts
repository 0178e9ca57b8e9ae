/** Shared set-up for the ONNX tests: sample models, the first text line of page.png, tensor fixtures. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ROOT, MODELS, SAMPLES } from './helpers.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';

export { ROOT, MODELS, SAMPLES };
export const REC = join(MODELS, 'ppocr-v4-rec');
export const CLS = join(MODELS, 'ppocr-mobile-v2-cls');
export const DET = join(MODELS, 'ppocr-v4-det');
export const VAD = join(MODELS, 'silero-vad-v5');
export const VAD_FIXTURES = join(ROOT, 'test', 'fixtures', 'silero');
export const PAGE = join(SAMPLES, 'page.png');

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The first text line of a page by row projection: rows holding at least one dark pixel (grey < 110)
 * form lines, a line ends at two blank rows; the line's columns are those with a dark pixel. `margin`
 * pixels are added on each side (clipped to the image). page.png: rows 13..33, columns 7..290.
 */
export async function firstTextLine(file: string, margin = 4): Promise<Rect> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const W = info.width;
  const H = info.height;
  const dark = (x: number, y: number): boolean => data[y * W + x]! < 110;
  const rowHasInk = (y: number): boolean => {
    for (let x = 0; x < W; x++) if (dark(x, y)) return true;
    return false;
  };
  let y0 = 0;
  while (y0 < H && !rowHasInk(y0)) y0++;
  if (y0 === H) throw new Error(`${file}: no dark pixel`);
  let y1 = y0;
  while (y1 + 1 < H && (rowHasInk(y1 + 1) || (y1 + 2 < H && rowHasInk(y1 + 2)))) y1++;
  let x0 = W;
  let x1 = -1;
  for (let y = y0; y <= y1; y++) {
    for (let x = 0; x < W; x++) {
      if (dark(x, y)) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
      }
    }
  }
  const left = Math.max(0, x0 - margin);
  const top = Math.max(0, y0 - margin);
  return { left, top, width: Math.min(W, x1 + margin + 1) - left, height: Math.min(H, y1 + margin + 1) - top };
}

/** A crop of an image file as RGBA pixels. */
export async function cropRgba(file: string, rect: Rect): Promise<RgbaImage> {
  const { data, info } = await sharp(file).extract(rect).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A crop written as a PNG (for the CLI's --image). */
export async function writeCropPng(file: string, rect: Rect, out: string): Promise<void> {
  await sharp(file).extract(rect).png().toFile(out);
}

export async function readBytes(file: string): Promise<Uint8Array> {
  const b = await readFile(file);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A `.npy` (v1) file holding `data` as `descr` (`<f4`, `<i8`, …) with `shape`. */
export function npyBytes(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
