/**
 * Makes the canvas-resize fixtures (test/fixtures/canvas-resize/): real sample photos downscaled by
 * Chromium's 2D canvas, `drawImage(bitmap, 0, 0, w, h)` with `imageSmoothingQuality` low / medium /
 * high, read back with getImageData: what a web app does before `tf.browser.fromPixels`. Run once; the
 * outputs are committed so the tests and the benchmark run in Node without a browser.
 *
 *   npx tsx scripts/make-canvas-resize.ts            (EXRAY_CHROMIUM=/path/to/chromium to pick another)
 *
 * The canvas is fed exactly the pixels exray's Node decoder gives (an ImageBitmap made from ImageData,
 * not the browser's own JPEG decoder), so only the resampler differs. The context is a default one (no
 * `willReadFrequently`), as apps create it; the manifest records the Chromium version and whether a
 * `willReadFrequently` (software) context gave the same pixels.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { chromiumLaunchOptions } from '../src/cli/chromium.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';

const SAMPLES = 'public/samples';
const OUT = 'test/fixtures/canvas-resize';
/** Upright photos (no EXIF rotation), 451–640 px: downscale factors 2–13 to the sizes below. */
const PHOTOS = ['chelsea.png', 'flower.jpg', 'astronaut.png'];
/** Stretch sizes of bundled cards: nsfw-mobilenet-v2 (224), emotion (64), ppocr-mobile-v2-cls (192×48). */
const SIZES: [number, number][] = [
  [224, 224],
  [64, 64],
  [192, 48],
];
const QUALITIES = ['low', 'medium', 'high'] as const;

interface PageResult {
  quality: string;
  width: number;
  height: number;
  /** RGBA, base64. */
  rgba: string;
  sameAsSoftware: boolean;
}

/** Runs in the page: the photo as an ImageBitmap, drawn at w × h with each quality, read back. */
const IN_PAGE = `async ({ src, width, height, w, h, qualities }) => {
  const bytes = Uint8ClampedArray.from(atob(src), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new ImageData(bytes, width, height));
  function draw(quality, software) {
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', software ? { willReadFrequently: true } : {});
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = quality;
    ctx.drawImage(bitmap, 0, 0, w, h);
    return ctx.getImageData(0, 0, w, h).data;
  }
  function toB64(a) {
    let s = '';
    for (let i = 0; i < a.length; i += 0x8000) s += String.fromCharCode(...a.subarray(i, i + 0x8000));
    return btoa(s);
  }
  return qualities.map((q) => {
    const a = draw(q, false);
    const b = draw(q, true);
    return { quality: q, width: w, height: h, rgba: toB64(a), sameAsSoftware: a.every((v, i) => v === b[i]) };
  });
}`;

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch(chromiumLaunchOptions());
const page = await browser.newPage();
const version = browser.version();
const differs: string[] = [];
for (const photo of PHOTOS) {
  const d = await decodeImageFile(join(SAMPLES, photo));
  const { width, height } = d.image;
  const src = Buffer.from(d.image.data.buffer, d.image.data.byteOffset, d.image.data.byteLength).toString('base64');
  for (const [w, h] of SIZES) {
    // Plain JS text: tsx's name helpers (__name) do not exist in the page.
    const results = (await page.evaluate(`(${IN_PAGE})(${JSON.stringify({ src, width, height, w, h, qualities: QUALITIES })})`)) as PageResult[];
    for (const r of results) {
      const rgba = Buffer.from(r.rgba, 'base64');
      const file = join(OUT, `${photo.replace(/\.[a-z]+$/, '')}-${w === h ? w : `${w}x${h}`}-${r.quality}.png`);
      // Opaque photos: RGB is exact (no premultiplication round trip); PNG is lossless.
      await sharp(rgba, { raw: { width: r.width, height: r.height, channels: 4 } }).removeAlpha().png({ compressionLevel: 9 }).toFile(file);
      if (!r.sameAsSoftware) differs.push(file);
      process.stdout.write(`${file}${r.sameAsSoftware ? '' : ' (differs from a willReadFrequently context)'}\n`);
    }
  }
}
await browser.close();
writeFileSync(
  join(OUT, 'manifest.json'),
  `${JSON.stringify({ made: 'scripts/make-canvas-resize.ts', chromium: version, photos: PHOTOS, sizes: SIZES.map(([w, h]) => (w === h ? `${w}` : `${w}x${h}`)), qualities: QUALITIES, differFromWillReadFrequently: differs }, null, 2)}\n`,
);
