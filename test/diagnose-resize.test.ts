/**
 * The resize cause names the resampler the edge ran, on real photos with bundled cards: sharp's
 * (libvips) cubic and lanczos3, exray's own bicubic, Chromium's canvas drawImage (committed fixtures,
 * scripts/make-canvas-resize.ts); clean inputs stay clean and skip the costly kernels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitInput, type InputFit } from '../src/diagnose/index.ts';
import { resizeKey, searchInput } from '../src/diagnose/input-search.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import { parseModelCard } from '../src/models/card-schema.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { DecodedImage } from '../src/preprocess/image.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { PreprocessSpec } from '../src/trace/types.ts';
import { card, MODELS, SAMPLES } from './helpers.ts';
import { canvasFixture, finishTensor, geometryForResize, sharpResize } from './resize-helpers.ts';

let spec: PreprocessSpec; // nsfw-mobilenet-v2: 224×224 stretch, bilinear align-corners
let flower: DecodedImage;
let chelsea: DecodedImage;

beforeAll(async () => {
  spec = (await card('nsfw-mobilenet-v2')).inputs[0]!.preprocess!;
  flower = await decodeImageFile(join(SAMPLES, 'flower.jpg'));
  chelsea = await decodeImageFile(join(SAMPLES, 'chelsea.png'));
});

const resizeOf = (f: InputFit) => f.causes.find((c) => c.code === 'resize');

async function viaSharp(d: DecodedImage, kernel: 'cubic' | 'lanczos3'): Promise<InputFit> {
  const edge = finishTensor(await sharpResize(geometryForResize(d.image, 1, spec), spec.width, spec.height, kernel), spec);
  return fitInput({ image: d.image, orientation: 1, spec, edge });
}

describe('resize methods named', () => {
  it("sharp's cubic is named bicubic (antialiased), its lanczos3 Lanczos3 (antialiased), with the software hint", async () => {
    const cubic = await viaSharp(flower, 'cubic');
    expect(cubic.causes.map((c) => c.code)).toEqual(['resize']);
    expect(resizeOf(cubic)!.evidence).toMatchObject({ method: 'bicubic+aa', expectedMethod: 'bilinear+ac' });
    expect(resizeOf(cubic)!.detail).toMatch(/bicubic \(Keys a = −0\.5, antialiased\) instead of bilinear \(align corners\).*sharp kernel 'cubic'/);
    const lanczos = await viaSharp(chelsea, 'lanczos3');
    expect(lanczos.causes.map((c) => c.code)).toEqual(['resize']);
    expect(resizeOf(lanczos)!.evidence).toMatchObject({ method: 'lanczos3+aa' });
    expect(lanczos.best.residualLevels).toBeLessThan(1);
  });

  it("exray's own bicubic through the pipeline is named bicubic, not antialiased when it was not", () => {
    for (const antialias of [true, false]) {
      const edge = preprocess(flower.image, 1, { ...spec, resize: { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias } });
      const f = fitInput({ image: flower.image, orientation: 1, spec, edge });
      expect(f.causes.map((c) => c.code)).toEqual(['resize']);
      expect(resizeOf(f)!.evidence!.method).toBe(antialias ? 'bicubic+aa' : 'bicubic');
    }
  });

  it("canvas drawImage (Chromium fixtures): 'low' is named half-pixel bilinear below 2×, canvas-low (mip-level pre-scale) above; 'high' a smoothing filter consistent with canvas 'medium'/'high'", async () => {
    const edge = async (q: 'low' | 'high', size = 224) => finishTensor((await canvasFixture('flower.jpg', q, size, size)).resized, { ...spec, width: size, height: size });
    const low = fitInput({ image: flower.image, orientation: 1, spec, edge: await edge('low') });
    expect(low.causes.map((c) => c.code)).toEqual(['resize']);
    expect(resizeOf(low)!.evidence!.method).toBe('bilinear+hpc');
    expect(resizeOf(low)!.detail).toMatch(/imageSmoothingQuality 'low'/);
    expect(low.best.residualLevels).toBeLessThan(0.8);
    // 64²: a 4–10× downscale, where Chromium pre-scales to a mip level first. Plain bilinear leaves
    // levels; the model of it leaves rounding only.
    const spec64 = { ...spec, width: 64, height: 64 };
    const low64 = fitInput({ image: flower.image, orientation: 1, spec: spec64, edge: await edge('low', 64) });
    expect(low64.causes.map((c) => c.code)).toEqual(['resize']);
    expect(resizeOf(low64)!.evidence!.method).toBe('canvas-low');
    expect(resizeOf(low64)!.detail).toMatch(/Chromium's canvas drawImage with imageSmoothingQuality 'low'/);
    expect(low64.best.residualLevels).toBeLessThan(0.5);
    const plain = searchInput({ image: flower.image, orientation: 1, spec: spec64, edge: await edge('low', 64) }).fine.resizeScores.find((r) => resizeKey(r.resize) === 'bilinear+hpc')!;
    expect(plain.levels).toBeGreaterThan(2);
    const high = fitInput({ image: flower.image, orientation: 1, spec, edge: await edge('high') });
    expect(high.causes.map((c) => c.code)).toEqual(['resize']);
    expect(['bilinear+aa', 'area', 'bicubic+aa']).toContain(resizeOf(high)!.evidence!.method);
    expect(resizeOf(high)!.detail).toMatch(/consistent with canvas drawImage with imageSmoothingQuality 'medium' or 'high'/);
  });

  it('a clean input (±1 decoder noise) has no cause and never computes the antialiased cubic kernels', () => {
    const edge = preprocess(decoderNoise(flower.image), 1, spec);
    const s = searchInput({ image: flower.image, orientation: 1, spec, edge });
    expect(s.fine.resizeScores.map((r) => resizeKey(r.resize))).not.toContain('lanczos3+aa');
    expect(s.fine.resizeScores.map((r) => resizeKey(r.resize))).not.toContain('bicubic+aa');
    expect(fitInput({ image: flower.image, orientation: 1, spec, edge }).causes).toEqual([]);
  });

  it('a card may say bicubic / lanczos3; alignCorners with them is refused with the field named', () => {
    const parse = (resize: PreprocessSpec['resize']) => () => {
      const json = JSON.parse(readFileSync(join(MODELS, 'nsfw-mobilenet-v2', 'exray.json'), 'utf8')) as { inputs: { preprocess: PreprocessSpec }[] };
      json.inputs[0]!.preprocess.resize = resize;
      return parseModelCard(json, 'exray.json');
    };
    expect(parse({ method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: true })().inputs[0]!.preprocess!.resize.method).toBe('lanczos3');
    expect(parse({ method: 'bicubic', alignCorners: true, halfPixelCenters: false, antialias: false })).toThrow(/bicubic.*alignCorners must be false/);
    // The canvas pre-scale: with half-pixel bilinear only.
    expect(parse({ method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false, prescale: 'mip-level' })().inputs[0]!.preprocess!.resize.prescale).toBe('mip-level');
    expect(parse({ method: 'area', alignCorners: false, halfPixelCenters: false, antialias: false, prescale: 'mip-level' })).toThrow(/exray\.json.*prescale "mip-level"/s);
  });
});
