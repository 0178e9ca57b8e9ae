/**
 * Chromium's canvas drawImage at imageSmoothingQuality 'low', against every committed fixture made in
 * Chromium (test/fixtures/canvas-resize): the mip-level pre-scale model matches to rounding, plain
 * half-pixel bilinear only where the downscale is under 2×.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canvasFixture, canvasManifest } from './resize-helpers.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { ImagePlanes } from '../src/preprocess/image.ts';
import { resizeBilinear } from '../src/preprocess/resize.ts';
import { canvasMipLevelSize, resizeCanvasLow } from '../src/preprocess/resize-canvas.ts';

function rgbPlanes(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): ImagePlanes<Float32Array> {
  const n = width * height;
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = rgba[4 * i + c]!;
  return { width, height, channels: 3, layout: 'interleaved', data };
}

function rmsLevels(a: Float32Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.round(Math.min(255, Math.max(0, a[i]!))) - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s / a.length);
}

describe("canvas drawImage, imageSmoothingQuality 'low'", () => {
  it('the mip level: none under 2×, else 2^-⌊log2 of the smaller factor⌋, sizes rounded up', () => {
    expect(canvasMipLevelSize(451, 300, 224, 224)).toBeNull();
    expect(canvasMipLevelSize(451, 300, 64, 64)).toEqual([113, 75]);
    expect(canvasMipLevelSize(512, 512, 64, 64)).toEqual([64, 64]);
    expect(canvasMipLevelSize(512, 512, 192, 48)).toEqual([256, 256]);
  });

  it('reproduces every Chromium fixture to rounding; plain bilinear does not where a mip level is used', async () => {
    const m = canvasManifest();
    let premipped = 0;
    for (const photo of m.photos) {
      const d = await decodeImageFile(join('public', 'samples', photo));
      const src = rgbPlanes(d.image.data, d.image.width, d.image.height);
      for (const size of m.sizes) {
        const [w, h] = size.includes('x') ? size.split('x').map(Number) as [number, number] : [Number(size), Number(size)];
        const fx = await canvasFixture(photo, 'low', w, h);
        const ours = rmsLevels(resizeCanvasLow(src, w, h).data, fx.resized.data);
        expect(ours, `${photo} → ${size}`).toBeLessThan(0.25);
        const level = canvasMipLevelSize(src.width, src.height, w, h);
        // A level of the target's own size (512² → 64²) is plain bilinear again.
        if (level && (level[0] !== w || level[1] !== h)) {
          premipped++;
          expect(rmsLevels(resizeBilinear(src, w, h, false, true).data, fx.resized.data), `${photo} → ${size}, plain bilinear`).toBeGreaterThan(2);
        }
      }
    }
    expect(premipped).toBeGreaterThanOrEqual(4);
  });
});
