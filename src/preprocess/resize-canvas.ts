/**
 * Chromium's 2D canvas `drawImage(img, 0, 0, w, h)` with `imageSmoothingQuality = 'low'` (the
 * default), as measured on the committed fixtures (test/fixtures/canvas-resize, made by
 * scripts/make-canvas-resize.ts in Chromium 156): before drawing, Chromium's image decode cache
 * pre-scales the image to a mip level — 2^-L of its size, sizes rounded up, L = ⌊log2⌋ of the smaller
 * of the two downscale factors — bilinearly (half-pixel centres) into 8-bit pixels, then the draw
 * samples that bilinearly to the target. For a factor under 2 in either axis (L = 0) it is plain
 * half-pixel bilinear. This model reproduces all nine fixtures (three photos × 224², 64², 192×48;
 * factors 1.3–8) to ≤ 0.17 levels rms; plain bilinear leaves up to 7 levels on the ones with L ≥ 1.
 *
 * 'medium' and 'high' add Skia's mipmaps to the draw and are not modelled (docs/diagnose.md).
 */
import type { FloatImage, ImagePlanes } from './image.ts';
import { resizeBilinear } from './resize.ts';

/** The mip level Chromium pre-scales to before a 'low' drawImage from w×h to dstW×dstH: [width, height], or null (none). */
export function canvasMipLevelSize(w: number, h: number, dstW: number, dstH: number): [number, number] | null {
  const factor = Math.min(w / dstW, h / dstH);
  const level = factor >= 2 ? Math.floor(Math.log2(factor)) : 0;
  if (level < 1) return null;
  return [Math.ceil(w / 2 ** level), Math.ceil(h / 2 ** level)];
}

/** Canvas 'low' drawImage (see the module comment). Values stay in the source's units (0..255 pixels). */
export function resizeCanvasLow(src: ImagePlanes, width: number, height: number): FloatImage {
  const level = canvasMipLevelSize(src.width, src.height, width, height);
  if (!level) return resizeBilinear(src, width, height, false, true);
  const pre = resizeBilinear(src, level[0], level[1], false, true);
  // The cached level is an 8-bit image.
  const d = pre.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.min(255, Math.max(0, Math.round(d[i]!)));
  return resizeBilinear(pre, width, height, false, true);
}
