/**
 * The input search on procedural photos (pure and fast; the real photos and models are in
 * test/diagnose-input.test.ts): every input cause alone, several at once, and clean inputs with
 * decoder noise that must report nothing.
 */
import { describe, expect, it } from 'vitest';
import type { PreprocessSpec } from '../trace/types.ts';
import type { RgbaImage } from '../preprocess/image.ts';
import { preprocess } from '../preprocess/pipeline.ts';
import { undoExifOrientation } from '../preprocess/orientation.ts';
import { fitInput } from './input.ts';
import { decoderNoise, mobilenetSpec, syntheticPhoto } from './test-images.ts';
import type { CauseCode, InputFit } from './types.ts';

const MOBILENET: PreprocessSpec = mobilenetSpec(96);
/** An ONNX-style card: NCHW, ImageNet mean/std, center crop, half-pixel bilinear. */
const IMAGENET_NCHW: PreprocessSpec = {
  ...MOBILENET,
  width: 80,
  height: 64,
  resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false },
  fit: 'center-crop',
  layout: 'nchw',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};
const GRAY: PreprocessSpec = { ...MOBILENET, width: 48, height: 48, channels: 'grayscale', mean: [0.5], std: [0.5], resize: { ...MOBILENET.resize, alignCorners: false } };
const INT_LETTERBOX: PreprocessSpec = { ...MOBILENET, width: 64, height: 64, fit: 'letterbox', scale: 1, dtype: 'int32', resize: { ...MOBILENET.resize, alignCorners: false } };

/** A photo stored with EXIF orientation `o` (the upright picture is `syntheticPhoto`). */
function stored(o: number, seed = 7, alpha = false): RgbaImage {
  return undoExifOrientation(syntheticPhoto(320, 240, seed, { alpha }), o);
}

function run(spec: PreprocessSpec, wrong: Partial<PreprocessSpec>, opts: { o?: number; noise?: boolean; alpha?: boolean; reshapeAs?: PreprocessSpec['layout'] } = {}): InputFit {
  const o = opts.o ?? 1;
  const img = stored(o, 7, opts.alpha);
  const src = opts.noise ? decoderNoise(img) : img;
  const t = preprocess(src, o, { ...spec, ...wrong });
  let shape = t.shape;
  if (opts.reshapeAs) {
    const C = spec.channels === 'grayscale' ? 1 : 3;
    shape = spec.layout === 'nhwc' ? [1, spec.height, spec.width, C] : [1, C, spec.height, spec.width];
  }
  return fitInput({ image: img, orientation: o, spec, edge: { data: t.data, shape } });
}

const codes = (f: InputFit): CauseCode[] => f.causes.map((c) => c.code).sort();
const detail = (f: InputFit, code: CauseCode): string => f.causes.find((c) => c.code === code)?.detail ?? '';

describe('input search on procedural photos', () => {
  it('clean inputs (bit-exact and with ±1 decoder noise) match, for every kind of card', () => {
    for (const spec of [MOBILENET, IMAGENET_NCHW, GRAY, INT_LETTERBOX]) {
      for (const noise of [false, true]) {
        for (const o of [1, 6]) {
          const f = run(spec, {}, { o, noise });
          expect(f.causes, `${spec.layout}/${spec.channels}/${spec.fit} o=${o} noise=${noise}`).toEqual([]);
          expect(f.matches).toBe(true);
          expect(f.canonicalResidualLevels!).toBeLessThan(noise ? 1.5 : 1e-3);
          expect(JSON.parse(JSON.stringify(f))).toEqual(f);
        }
      }
    }
  });

  it('channel order: BGR, any permutation, grayscale weights swapped', () => {
    let f = run(MOBILENET, { channels: 'bgr' });
    expect(codes(f)).toEqual(['channel-order']);
    expect(detail(f, 'channel-order')).toBe('channels fed as BGR, the model expects RGB');
    f = run(IMAGENET_NCHW, { channels: 'bgr', mean: [0.406, 0.456, 0.485], std: [0.225, 0.224, 0.229] }, { noise: true });
    expect(codes(f)).toEqual(['channel-order']);
    // Any permutation: G, R, B built from the canonical tensor.
    const img = stored(1);
    const t = preprocess(img, 1, MOBILENET);
    const grb = Float32Array.from(t.data, (_, i) => t.data[i - (i % 3) + ([1, 0, 2][i % 3] as number)] as number);
    f = fitInput({ image: img, orientation: 1, spec: MOBILENET, edge: { data: grb, shape: t.shape } });
    expect(detail(f, 'channel-order')).toBe('channels fed as GRB, the model expects RGB');
    f = run(GRAY, { grayWeights: [0.114, 0.587, 0.299] });
    expect(codes(f)).toEqual(['channel-order']);
    expect(detail(f, 'channel-order')).toMatch(/R and B weights swapped/);
  });

  it('normalisation: [-1,1] for [0,1], raw pixels, ImageNet mean/std missing', () => {
    let f = run(MOBILENET, { scale: 1 / 127.5, mean: [1] });
    expect(codes(f)).toEqual(['normalization']);
    expect(detail(f, 'normalization')).toMatch(/^given \[-1, 1\], expected \[0, 1\]/);
    f = run(INT_LETTERBOX, { scale: 1 / 255, dtype: 'float32' });
    expect(codes(f)).toEqual(['normalization']);
    expect(detail(f, 'normalization')).toMatch(/^given \[0, 1\], expected \[0, 25[45]\]/);
    f = run(IMAGENET_NCHW, { mean: [0], std: [1] }, { noise: true });
    expect(codes(f)).toEqual(['normalization']);
    expect(detail(f, 'normalization')).toMatch(/given \[0, 1\], expected R \[-2.12, 2.25\], G \[-2.04, 2.43\], B \[-1.8, 2.64\].*per-channel mean\/std not applied/);
  });

  it('orientation: each of the 8 EXIF orientations ignored', () => {
    for (let o = 2; o <= 8; o++) {
      const f = run(MOBILENET, { exif: 'ignore' }, { o });
      expect(codes(f), `o=${o}`).toEqual(['orientation']);
      expect(detail(f, 'orientation')).toContain(`EXIF orientation ${o} ignored`);
    }
    expect(detail(run(MOBILENET, { exif: 'ignore' }, { o: 6 }), 'orientation')).toMatch(/rotated 90° counter-clockwise .*90° clockwise rotation/);
  });

  it('layout: NCHW data in an NHWC input and the reverse', () => {
    let f = run(MOBILENET, { layout: 'nchw' }, { reshapeAs: 'nhwc' });
    expect(codes(f)).toEqual(['layout']);
    expect(detail(f, 'layout')).toMatch(/channel-planar \(NCHW\) data in the NHWC input/);
    f = run(IMAGENET_NCHW, { layout: 'nhwc' }, { reshapeAs: 'nchw', noise: true });
    expect(codes(f)).toEqual(['layout']);
    expect(detail(f, 'layout')).toMatch(/interleaved \(NHWC\) data in the NCHW input/);
  });

  it('resize: method, align-corners vs half-pixel, antialias, area, and crop vs stretch', () => {
    const cases: [Partial<PreprocessSpec>, RegExp][] = [
      [{ resize: { method: 'nearest', alignCorners: false, halfPixelCenters: false, antialias: false } }, /nearest instead of bilinear \(align corners\)/],
      [{ resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false } }, /bilinear \(half-pixel centres\) instead of bilinear \(align corners\)/],
      [{ resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: true } }, /bilinear \(antialiased\) instead/],
      [{ resize: { method: 'area', alignCorners: false, halfPixelCenters: false, antialias: false } }, /area instead/],
      [{ fit: 'center-crop' }, /center crop instead of stretch/],
      [{ fit: 'letterbox' }, /letterbox instead of stretch/],
    ];
    for (const [wrong, re] of cases) {
      const f = run(MOBILENET, wrong, { noise: true });
      expect(codes(f), JSON.stringify(wrong)).toEqual(['resize']);
      expect(detail(f, 'resize')).toMatch(re);
    }
    const f = run(IMAGENET_NCHW, { fit: 'stretch' });
    expect(detail(f, 'resize')).toMatch(/stretch instead of center crop/);
  });

  it('alpha: premultiplied where the card drops alpha', () => {
    const f = run(MOBILENET, { alpha: 'premultiply' }, { alpha: true });
    expect(codes(f)).toEqual(['alpha']);
    expect(detail(f, 'alpha')).toMatch(/premultiplied by alpha/);
    expect(run(MOBILENET, {}, { alpha: true, noise: true }).causes).toEqual([]);
  });

  it('camera range: a limited-range frame converted as full, and the reverse; not a normalisation', () => {
    /** The photo's pixels through a YUV range mix-up (RGB only, rounded and clipped as a converter does). */
    const through = (img: RgbaImage, gain: number, offset: number): RgbaImage => {
      const data = new Uint8ClampedArray(img.data.length);
      for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? img.data[i]! : Math.round(gain * img.data[i]! + offset);
      return { width: img.width, height: img.height, data };
    };
    for (const spec of [MOBILENET, IMAGENET_NCHW, GRAY]) {
      for (const [gain, offset, what] of [[219 / 255, 16, /limited-range \(16–235\) frame converted as full range/], [255 / 219, (-16 * 255) / 219, /full-range \(0–255\) frame converted as limited range/]] as const) {
        const img = stored(1);
        const t = preprocess(through(img, gain, offset), 1, spec);
        const f = fitInput({ image: img, orientation: 1, spec, edge: { data: t.data, shape: t.shape } });
        expect(codes(f), `${spec.layout}/${spec.channels} gain ${gain}`).toEqual(['camera-range']);
        expect(detail(f, 'camera-range')).toMatch(what);
      }
    }
  });

  it('several causes at once are all reported', () => {
    let f = run(MOBILENET, { channels: 'bgr', scale: 1 }, { noise: true });
    expect(codes(f)).toEqual(['channel-order', 'normalization']);
    expect(detail(f, 'normalization')).toMatch(/^given \[0, 255\], expected \[0, 1\]/);
    f = run(MOBILENET, { exif: 'ignore', resize: { method: 'nearest', alignCorners: false, halfPixelCenters: false, antialias: false }, channels: 'bgr' }, { o: 8 });
    expect(codes(f)).toEqual(['channel-order', 'orientation', 'resize']);
    f = run(MOBILENET, { layout: 'nchw', scale: 1 / 127.5, mean: [1] }, { reshapeAs: 'nhwc', o: 3 });
    expect(codes(f)).toEqual(['layout', 'normalization']);
  });

  it('an input that is not the photo is not explained, and nothing is claimed', () => {
    const other = preprocess(syntheticPhoto(320, 240, 99), 1, MOBILENET);
    const f = fitInput({ image: syntheticPhoto(320, 240, 7), orientation: 1, spec: MOBILENET, edge: { data: other.data, shape: other.shape } });
    expect(f.matches).toBe(false);
    expect(f.explained).toBe(false);
    expect(f.notes.join()).toMatch(/no candidate pipeline explains/);
    expect(f.causes).toEqual([]);
  });
});
