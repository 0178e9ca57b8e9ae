/**
 * Input-level causes on real sample models and real photos: each cause injected by a wrong pipeline,
 * alone and several at once, diagnosed end to end (input search, reference run, comparison, replays);
 * clean runs (bit-exact, with decoder noise, against another backend) must report `none`.
 */
import { describe, expect, it } from 'vitest';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import type { CauseCode, Diagnosis } from '../src/diagnose/index.ts';
import { MODELS } from './helpers.ts';
import { edgeCase, nchwAsNhwc, type EdgeOptions } from './diagnose-helpers.ts';
import { join } from 'node:path';

async function diagnoseCase(o: EdgeOptions, backend: 'cpu' | 'wasm' = 'wasm'): Promise<Diagnosis> {
  const c = await edgeCase(o);
  const run = await runDiagnosis({ edge: c.edge, image: c.decoded, model: join(MODELS, o.model), backend });
  expect(JSON.parse(JSON.stringify(run.diagnosis))).toEqual(run.diagnosis);
  return run.diagnosis;
}

const codes = (d: Diagnosis): CauseCode[] => d.causes.map((c) => c.code).sort();
const cause = (d: Diagnosis, code: CauseCode) => d.causes.find((c) => c.code === code)!;
const NEAREST = { method: 'nearest', alignCorners: false, halfPixelCenters: false, antialias: false } as const;

describe('clean runs report none', () => {
  const cases: [EdgeOptions, 'cpu' | 'wasm'][] = [
    [{ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png' }, 'cpu'],
    [{ model: 'nsfw-mobilenet-v2', photo: 'rocket_exif8.jpg', noise: true }, 'wasm'],
    [{ model: 'nsfw-mobilenet-v2', photo: 'coffee_alpha.png', noise: true }, 'wasm'],
    [{ model: 'nsfw-mobilenet-v2-mid', photo: 'flower.jpg', noise: true }, 'cpu'],
    [{ model: 'blazeface', photo: 'chelsea_exif6.jpg', noise: true }, 'cpu'],
    [{ model: 'blazeface', photo: 'astronaut.png' }, 'wasm'],
    [{ model: 'emotion', photo: 'coffee_exif3.jpg', noise: true }, 'cpu'],
    [{ model: 'movenet-lightning', photo: 'butterfly.jpg', noise: true }, 'wasm'],
  ];
  for (const [o, backend] of cases) {
    it(`${o.model} × ${o.photo}${o.noise ? ' + decoder noise' : ''} (reference ${backend})`, async () => {
      const d = await diagnoseCase(o, backend);
      expect(d.causes.map((c) => c.code), d.summary).toEqual(['none']);
      expect(d.inputMatches).toBe(true);
      expect(d.firstDivergentNode).toBeNull();
      expect(d.assertions.filter((a) => a.ok === false)).toEqual([]);
    });
  }
});

describe('each input cause, injected on real models and photos', () => {
  it('channel-order: BGR fed to RGB models', async () => {
    for (const o of [
      { model: 'nsfw-mobilenet-v2', photo: 'china.jpg' },
      { model: 'blazeface', photo: 'flower.jpg', noise: true },
    ]) {
      const d = await diagnoseCase({ ...o, wrong: { channels: 'bgr' } });
      expect(codes(d), d.summary).toEqual(['channel-order']);
      expect(cause(d, 'channel-order').detail).toBe('channels fed as BGR, the model expects RGB');
      expect(d.inputMatches).toBe(false);
      expect(d.firstDivergentNode).toBe(d.nodes[0]?.node);
    }
  });

  it('normalization: [-1,1] for a [0,1] model, [0,1] for a [-1,1] model', async () => {
    let d = await diagnoseCase({ model: 'nsfw-mobilenet-v2', photo: 'starry_night.jpg', wrong: { scale: 1 / 127.5, mean: [1] } });
    expect(codes(d)).toEqual(['normalization']);
    expect(cause(d, 'normalization').detail).toMatch(/^given \[-1, 1\], expected \[0, 1\]/);
    d = await diagnoseCase({ model: 'blazeface', photo: 'coffee_exif3.jpg', wrong: { scale: 1 / 255, mean: [0], std: [1] }, noise: true });
    expect(codes(d)).toEqual(['normalization']);
    expect(cause(d, 'normalization').detail).toMatch(/^given \[0, 1\], expected \[-1, 1\]/);
  });

  it('orientation: EXIF 6, 8 and 3 ignored', async () => {
    for (const [model, photo, o, seen] of [
      ['nsfw-mobilenet-v2', 'chelsea_exif6.jpg', 6, 'rotated 90° counter-clockwise'],
      ['emotion', 'rocket_exif8.jpg', 8, 'rotated 90° clockwise'],
      ['blazeface', 'coffee_exif3.jpg', 3, 'rotated 180°'],
    ] as const) {
      const d = await diagnoseCase({ model, photo, wrong: { exif: 'ignore' } });
      expect(codes(d), `${model} ${photo}: ${d.summary}`).toEqual(['orientation']);
      expect(cause(d, 'orientation').detail).toContain(`EXIF orientation ${o} ignored: the model saw the photo ${seen}`);
      expect(d.assertions.find((a) => a.id === 'exif-orientation')?.ok).toBe(false);
    }
  });

  it('layout: NCHW data reshaped into an NHWC input (graph model)', async () => {
    const d = await diagnoseCase({ model: 'nsfw-mobilenet-v2-mid', photo: 'butterfly.jpg', after: nchwAsNhwc });
    expect(codes(d)).toEqual(['layout']);
    expect(cause(d, 'layout').detail).toMatch(/^channel-planar \(NCHW\) data in the NHWC input \[1,224,224,3\]/);
  });

  it('layout: height and width transposed, on an upright photo and on an EXIF-rotated one (not an orientation bug)', async () => {
    // NHWC, square input: element (y, x) takes (x, y).
    const transposeHW = (t: { data: Float32Array | Int32Array; shape: number[] }): { data: Float32Array | Int32Array; shape: number[] } => {
      const [, H, W, C] = t.shape as [number, number, number, number];
      const out = t.data.slice();
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[(x * W + y) * C + c] = t.data[(y * W + x) * C + c]!;
      return { data: out, shape: t.shape };
    };
    for (const photo of ['china.jpg', 'chelsea_exif6.jpg']) {
      const d = await diagnoseCase({ model: 'nsfw-mobilenet-v2', photo, after: transposeHW });
      expect(codes(d), `${photo}: ${d.summary}`).toEqual(['layout']);
      expect(cause(d, 'layout').detail).toBe('height and width transposed: the image was fed as W×H (x and y swapped)');
    }
    // The EXIF tag ignored stays an orientation bug.
    const d = await diagnoseCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea_exif6.jpg', wrong: { exif: 'ignore' } });
    expect(codes(d)).toEqual(['orientation']);
  });

  it('resize: nearest for bilinear, center crop for stretch, half-pixel for align-corners', async () => {
    let d = await diagnoseCase({ model: 'blazeface', photo: 'rocket.jpg', wrong: { resize: NEAREST }, noise: true });
    expect(codes(d)).toEqual(['resize']);
    expect(cause(d, 'resize').detail).toMatch(/^resized with nearest instead of bilinear \(as tf\.image\.resizeNearestNeighbor does by default\)$/);
    d = await diagnoseCase({ model: 'nsfw-mobilenet-v2', photo: 'coffee_exif3.jpg', wrong: { fit: 'center-crop' } });
    expect(codes(d)).toEqual(['resize']);
    expect(cause(d, 'resize').detail).toMatch(/^resized with center crop instead of stretch( \(.+\))?$/);
    d = await diagnoseCase({ model: 'movenet-lightning', photo: 'chelsea.png', wrong: { resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false } } });
    expect(codes(d)).toEqual(['resize']);
    expect(cause(d, 'resize').detail).toMatch(/^resized with bilinear \(half-pixel centres\) instead of bilinear( \(.+\))?$/);
  });

  it('alpha: RGB premultiplied by alpha', async () => {
    const d = await diagnoseCase({ model: 'nsfw-mobilenet-v2', photo: 'coffee_alpha.png', wrong: { alpha: 'premultiply' } });
    expect(codes(d)).toEqual(['alpha']);
    expect(cause(d, 'alpha').detail).toMatch(/^RGB premultiplied by alpha/);
  });

  it('two and three causes at once: BGR + [0,255]; EXIF ignored + nearest + [0,1]', async () => {
    let d = await diagnoseCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png', wrong: { channels: 'bgr', scale: 1 }, noise: true }, 'cpu');
    expect(codes(d)).toEqual(['channel-order', 'normalization']);
    expect(cause(d, 'normalization').detail).toMatch(/^given \[0, 255\], expected \[0, 1\] \(raw pixels/);
    expect(d.impact.top1Equal).not.toBeNull();
    expect(d.assertions.find((a) => a.id === 'input-range')?.ok).toBe(false);
    d = await diagnoseCase({ model: 'blazeface', photo: 'rocket_exif8.jpg', wrong: { exif: 'ignore', resize: NEAREST, scale: 1 / 255, mean: [0], std: [1] } });
    expect(codes(d)).toEqual(['normalization', 'orientation', 'resize']);
  });
});
