/**
 * Real-data set-up for the `decoder` finding and the competing-explanations rule (tests and the
 * diagnosis benchmark): a second real JPEG decoder, and two-tone images made from a real text line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import type { InputSource, PreprocessSpec, Trace } from '../src/trace/types.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { card, MODELS } from './helpers.ts';

/**
 * The photo decoded by jpeg-js (pure JavaScript, as TF.js React Native's decodeJpeg does): chroma
 * upsampled by pixel replication and its own integer IDCT, where sharp's libjpeg-turbo uses "fancy"
 * (triangle) upsampling and the slow integer IDCT. Stored pixels, EXIF not applied, like decodeImageFile.
 */
export function decodeWithJpegJs(path: string): RgbaImage {
  const j = jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true });
  return { width: j.width, height: j.height, data: new Uint8ClampedArray(j.data.buffer, j.data.byteOffset, j.data.byteLength) };
}

/** Navy ink on cream paper: every channel rises from ink to paper, so any channel is an increasing affine map of any other. */
export const INK = [20, 40, 110] as const;
export const PAPER = [250, 235, 200] as const;

/**
 * A two-tone image from a real grayscale one (a text line): each pixel's gray level t picks the
 * blend ink + t·(paper − ink), as a coloured document, sign or logo is.
 */
export function twoTone(img: RgbaImage, ink: readonly number[] = INK, paper: readonly number[] = PAPER): RgbaImage {
  const data = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < data.length; i += 4) {
    const t = (img.data[i] as number) / 255;
    for (let c = 0; c < 3; c++) data[i + c] = Math.round((ink[c] as number) + t * ((paper[c] as number) - (ink[c] as number)));
    data[i + 3] = 255;
  }
  return { width: img.width, height: img.height, data };
}

/** An edge trace (wasm) of a sample model fed `image` through the card's pipeline with `wrong` steps, recording the card's spec. */
export async function edgeTrace(model: string, image: RgbaImage, source: InputSource, wrong: Partial<PreprocessSpec> = {}): Promise<Trace> {
  const input = (await card(model)).inputs[0]!;
  const spec = input.preprocess!;
  const t = preprocess(image, source.exifOrientation, { ...spec, ...wrong });
  return traceInNode({
    model: join(MODELS, model),
    backend: 'wasm',
    feed: [{ name: input.name, shape: t.shape, dtype: spec.dtype === 'float32' ? 'float32' : 'int32', data: t.data }],
    feedFile: source.fileName,
    runs: 1,
    warmup: 0,
    source,
    preprocess: spec,
    label: 'edge',
  });
}

/** A w×h window of an image at (x, y): a part of a decoded photo, as an app that crops after decoding feeds it. */
export function cropImage(img: RgbaImage, x: number, y: number, w: number, h: number): RgbaImage {
  if (x < 0 || y < 0 || x + w > img.width || y + h > img.height) throw new RangeError(`crop ${w}x${h}+${x}+${y} outside ${img.width}x${img.height}`);
  const data = new Uint8ClampedArray(w * h * 4);
  for (let r = 0; r < h; r++) data.set(img.data.subarray(((y + r) * img.width + x) * 4, ((y + r) * img.width + x + w) * 4), r * w * 4);
  return { width: w, height: h, data };
}
