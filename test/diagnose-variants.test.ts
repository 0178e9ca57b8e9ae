/**
 * `exray variants`: re-quantized copies of a TF.js model with the converter's own encodings; they load,
 * run, and `exray compare` against the original shows the cost: uint8 > uint16 and uint8 > float16.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Comparison } from '../src/compare/index.ts';
import { encodeWeight, decodeWeight, fromHalfBits, quantizeAffine, toHalfBits } from '../src/models/variants.ts';
import { loadTfjsModelFromDir } from '../src/models/load-node.ts';
import { MODELS, SAMPLES, tf, runCli } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-variants-'));

const exray = runCli;

describe('weight encodings (tensorflowjs/quantization.py)', () => {
  it('float16: every half value round-trips; ties round to even', () => {
    for (let h = 0; h < 0x7c00; h++) {
      expect(toHalfBits(fromHalfBits(h))).toBe(h);
      expect(toHalfBits(-fromHalfBits(h))).toBe(h | 0x8000);
    }
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11))).toBe(1);
    expect(fromHalfBits(toHalfBits(70000))).toBe(Number.POSITIVE_INFINITY);
  });

  it('uint8: the nudged affine range represents 0 exactly, q = round((x - min) / scale)', () => {
    const data = Float32Array.from([-0.3, 0, 0.1, 0.7]);
    const { q, min, scale } = quantizeAffine(data, 'uint8');
    expect(scale).toBeCloseTo(1 / 255, 12);
    expect(min).toBeCloseTo(-77 / 255, 12); // round(0.3 * 255) = 77: zero point nudged
    expect(Array.from(q)).toEqual([0, 77, 103, 255]);
    const enc = encodeWeight(data, 'uint16');
    const back = decodeWeight({ name: 'w', shape: [4], dtype: 'float32', quantization: enc.quantization }, enc.bytes) as Float32Array;
    expect(back[1]).toBe(0);
    for (let i = 0; i < 4; i++) expect(Math.abs(back[i]! - data[i]!)).toBeLessThanOrEqual((enc.quantization.scale ?? 0) / 2 + 1e-7);
    const constant = quantizeAffine(new Float32Array(5).fill(0.25), 'uint8');
    expect([constant.min, constant.scale, Math.max(...constant.q)]).toEqual([0.25, 1, 0]);
  });
});

describe('exray variants', () => {
  it('writes loadable uint8 / uint16 / float16 copies; compare vs the original: uint8 costs most', async () => {
    const src = join(MODELS, 'emotion');
    const { code, out } = await exray(['variants', src, '--weights', 'uint8', 'uint16', 'float16', '--out', join(tmp, 'emo'), '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(out) as { dtype: string; outDir: string; quantized: number; bytesAfter: number; bytesBefore: number }[];
    expect(summary.map((s) => s.dtype)).toEqual(['uint8', 'uint16', 'float16']);
    expect(summary[0]!.quantized).toBe(22);
    expect(summary[0]!.bytesAfter).toBeLessThan(summary[0]!.bytesBefore / 3.5);
    const manifest = JSON.parse(readFileSync(join(tmp, 'emo-uint8', 'model.json'), 'utf8')) as { weightsManifest: { weights: { dtype: string; quantization?: { dtype: string; min: number; scale: number } }[] }[] };
    const q = manifest.weightsManifest[0]!.weights.find((w) => w.quantization)!;
    expect(q.dtype).toBe('float32');
    expect(q.quantization!.dtype).toBe('uint8');
    expect(typeof q.quantization!.scale).toBe('number');
    expect(JSON.parse(readFileSync(join(tmp, 'emo-uint8', 'exray.json'), 'utf8')).name).toBe('emotion-uint8');

    const photo = join(SAMPLES, 'chelsea.png');
    const trace = async (dir: string, name: string): Promise<string> => {
      const file = join(tmp, `${name}.exray`);
      expect((await exray(['trace', dir, '--image', photo, '--backend', 'wasm', '--runs', '1', '--warmup', '0', '--out', file])).code).toBe(0);
      return file;
    };
    const original = await trace(src, 'orig');
    const err: Record<string, number> = {};
    for (const s of summary) {
      const file = await trace(s.outDir, s.dtype);
      const r = await exray(['compare', file, original, '--json', '--allow-different-models']);
      const c = JSON.parse(r.out) as Comparison;
      err[s.dtype] = Math.max(...c.outputs.tensors.map((t) => t.metrics!.nrmse));
      expect(c.sameModel).toBe(false);
    }
    expect(err['uint8']!).toBeGreaterThan(err['uint16']!);
    expect(err['uint8']!).toBeGreaterThan(err['float16']!);
    expect(err['float16']!).toBeGreaterThan(0);
  });

  it('re-encodes an already uint8-quantized model (dequantized first) and it still runs', async () => {
    const out = join(tmp, 'mnv2-f16');
    expect((await exray(['variants', join(MODELS, 'nsfw-mobilenet-v2'), '--weights', 'float16', '--out', out])).code).toBe(0);
    const { model } = await loadTfjsModelFromDir(out, tf);
    const y = (model as tf.LayersModel).predict(tf.zeros([1, 224, 224, 3])) as tf.Tensor;
    const p = Array.from(await y.data());
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    tf.dispose([y]);
    model.dispose();
  });
});
