/**
 * The repro bundle's TF.js weights are the deployed model's own bytes: sliced out of the real shards
 * of float32 (emotion), uint8-quantized (nsfw-mobilenet-v2-mid) and float16-quantized
 * (movenet-lightning) models, with their manifest entries, they decode in TF.js to exactly the values
 * TF.js decodes from the whole model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { WeightEntry } from '../models/manifest-parse.ts';
import { weightSlices } from './repro-cut.ts';

const MODELS = join(import.meta.dirname, '..', '..', 'models');

function load(name: string): { specs: WeightEntry[]; data: Uint8Array } {
  const json = JSON.parse(readFileSync(join(MODELS, name, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: WeightEntry[] }[] };
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(MODELS, name, p))));
  return { specs: json.weightsManifest.flatMap((g) => g.weights), data: new Uint8Array(Buffer.concat(shards)) };
}

describe('weightSlices: a weight cut out of the shards decodes as in the whole model', () => {
  for (const [model, kind] of [['emotion', 'none'], ['nsfw-mobilenet-v2-mid', 'uint8'], ['movenet-lightning', 'float16']] as const) {
    it(`${model} (${kind})`, () => {
      const { specs, data } = load(model);
      const whole = tf.io.decodeWeights(data.slice().buffer, specs as tf.io.WeightsManifestEntry[]);
      const slices = weightSlices(specs, data.length, model);
      // The first, middle and last weight, one of each stored kind among them.
      const picks = [specs[0]!, specs[Math.floor(specs.length / 2)]!, specs.at(-1)!];
      const quantized = specs.find((s) => (s.quantization?.dtype ?? 'none') === kind);
      if (quantized) picks.push(quantized);
      expect(picks.some((s) => (s.quantization?.dtype ?? 'none') === kind)).toBe(true);
      for (const spec of picks) {
        const w = slices.get(spec.name)!;
        const bytes = data.slice(w.offset, w.offset + w.bytes);
        const alone = tf.io.decodeWeights(bytes.buffer, [w.spec as tf.io.WeightsManifestEntry]);
        expect(Array.from(alone[spec.name]!.dataSync()), spec.name).toEqual(Array.from(whole[spec.name]!.dataSync()));
      }
      tf.dispose(Object.values(whole));
      const last = slices.get(specs.at(-1)!.name)!;
      expect(last.offset + last.bytes).toBe(data.length);
    });
  }

  it('a manifest that needs more bytes than the shards hold is refused, naming the file', () => {
    const { specs, data } = load('emotion');
    expect(() => weightSlices(specs, data.length - 4, 'emotion/model.json')).toThrow(/^emotion\/model\.json: its weights manifest needs at least \d+ bytes, the shards hold \d+$/);
  });
});
