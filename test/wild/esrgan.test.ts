/**
 * ESRGAN slim ×2 from @upscalerjs/esrgan-slim@1.0.0: a TF.js layers model with dynamic height and width
 * (input `LR` [null, null, null, 3], 0..255 in and out, as the package's model definition says). A 64×48
 * patch of a real photo keeps it fast; the output is an image, compared by PSNR.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTrace } from '../../src/cli/io.ts';
import { ROOT, SHARED_IMAGES, compare, exray, outputValues, printRuns, wildTmp } from './helpers.ts';

const PKG = join(ROOT, 'node_modules', '@upscalerjs', 'esrgan-slim', 'models', 'x2');
const tmp = wildTmp('esrgan');
const model = join(tmp, 'esrgan-slim-x2');
const patch = join(tmp, 'butterfly-64x48.png');
const [W, H] = [64, 48];

const card = {
  cardVersion: 1,
  name: 'esrgan-slim-x2',
  description: 'ESRGAN slim (RDN C1 D2 G4 G064 T10) ×2 super-resolution from @upscalerjs/esrgan-slim@1.0.0 models/x2: any H×W RGB 0..255 in, 2H×2W RGB 0..255 out.',
  source: { package: '@upscalerjs/esrgan-slim', version: '1.0.0', path: 'models/x2/model.json', license: 'MIT' },
  format: 'tfjs-layers',
  modelFile: 'model.json',
  execution: 'sync',
  inputs: [
    {
      name: 'LR',
      shape: [null, null, null, 3],
      dtype: 'float32',
      kind: 'image',
      notes: 'Dynamic height and width: this card feeds 64×48 (UpscalerJS tiles larger images into patches).',
      preprocess: {
        width: W,
        height: H,
        resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: false },
        fit: 'stretch',
        channels: 'rgb',
        layout: 'nhwc',
        scale: 1,
        mean: [0, 0, 0],
        std: [1, 1, 1],
        dtype: 'float32',
        exif: 'apply',
        alpha: 'ignore',
      },
    },
  ],
  outputs: [{ name: 'SR', shape: [null, null, null, 3], dtype: 'float32', meaning: 'image' }],
};

beforeAll(async () => {
  await sharp(join(SHARED_IMAGES, 'butterfly.jpg')).extract({ left: 100, top: 100, width: W, height: H }).toFile(patch);
  mkdirSync(model);
  for (const f of ['model.json', 'group1-shard1of1.bin']) copyFileSync(join(PKG, f), join(model, f));
  writeFileSync(join(model, 'exray.json'), JSON.stringify(card));
});

afterAll(() => printRuns('ESRGAN slim ×2'));

describe('ESRGAN slim (layers, dynamic H/W)', () => {
  it('a 64×48 patch: wasm vs cpu ok, the 128×96 output compared as an image by PSNR, and it is the patch upscaled', async () => {
    const edge = join(tmp, 'esrgan-wasm.exray');
    const ref = join(tmp, 'esrgan-cpu.exray');
    const run = ['--runs', '1', '--warmup', '0'];
    await exray('esrgan x2 64×48: trace wasm', ['trace', model, '--image', patch, '--backend', 'wasm', ...run, '--out', edge]);
    await exray('esrgan x2 64×48: reference cpu', ['reference', edge, '--model', model, '--backend', 'cpu', ...run, '--out', ref]);
    const c = await compare('esrgan x2 64×48: compare', edge, ref, ['--model', model]);
    const h = (await readTrace(edge)).header;
    expect(h.model.format).toBe('tfjs-layers');
    expect(h.input.tensors[0]!.shape).toEqual([1, H, W, 3]);
    expect(h.outputs.map((o) => [o.name, o.shape])).toEqual([['SR', [1, 2 * H, 2 * W, 3]]]);
    expect(c.verdict).toBe('ok');
    expect(c.counts).toMatchObject({ total: 23, ok: 23, diverged: 0, missing: 0 });
    const out = c.outputs.tensors[0]!;
    expect([out.kind.kind, out.kind.source]).toEqual(['image', 'given']);
    expect(out.measure).toMatchObject({ kind: 'image', peak: 255 });
    if (out.measure?.kind !== 'image') throw new Error('unreachable');
    // wasm and cpu: float32 rounding only.
    expect(out.measure.psnrDb).toBeGreaterThan(80);
    expect(c.summary).toMatch(/^ok: 23\/23 node outputs within tolerance; SR: image: PSNR \d+\.\d dB$/);
    // The output is the photo at twice the size: near a bicubic ×2 of the patch (an SR net sharpens the
    // edges, hence not closer), and far nearer it than to the same patch mirrored.
    const sr = await outputValues(ref, 'SR');
    const psnrTo = (img: Buffer): number => {
      let se = 0;
      for (let i = 0; i < img.length; i++) se += (Math.min(255, Math.max(0, sr[i]!)) - img[i]!) ** 2;
      return 10 * Math.log10(255 ** 2 / (se / img.length));
    };
    const bicubic = sharp(patch).resize(2 * W, 2 * H, { kernel: 'cubic' }).removeAlpha();
    const same = psnrTo(await bicubic.clone().raw().toBuffer());
    const mirrored = psnrTo(await bicubic.clone().flop().raw().toBuffer());
    expect(same).toBeGreaterThan(20);
    expect(same - mirrored).toBeGreaterThan(6);
  });
});
