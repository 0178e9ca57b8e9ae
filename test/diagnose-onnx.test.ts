/**
 * Diagnosis of an ONNX deployment: the PaddleOCR direction classifier fed RGB in [0,1] instead of
 * BGR in [-1,1], traced on onnxruntime-web wasm, diagnosed against onnxruntime-node on the photo.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { traceInNode } from '../src/reference/trace-node.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import { MODELS, SAMPLES } from './helpers.ts';

describe('diagnose on ONNX traces', () => {
  const model = join(MODELS, 'ppocr-mobile-v2-cls');
  for (const [photo, wrong, codes] of [
    ['coffee.png', { channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] }, ['channel-order', 'normalization']],
    ['chelsea.png', {}, ['none']],
  ] as const) {
    it(`${photo}: ${codes.join(' + ')}`, async () => {
      const card = await loadModelCard(join(model, 'exray.json'));
      const spec = card.inputs[0]!.preprocess!;
      const file = join(SAMPLES, photo);
      const { image, source } = await decodeImageFile(file);
      const fed = preprocess(image, source.exifOrientation, { ...spec, ...wrong, mean: [...(wrong as { mean?: number[] }).mean ?? spec.mean], std: [...(wrong as { std?: number[] }).std ?? spec.std] });
      const edge = await traceInNode({
        model,
        backend: 'wasm',
        feed: [{ name: card.inputs[0]!.name, shape: fed.shape, dtype: fed.dtype, data: fed.data }],
        feedFile: file,
        capture: 'tensors',
        runs: 1,
        warmup: 0,
        source,
        preprocess: spec,
      });
      const run = await runDiagnosis({ edge, image: file });
      expect(run.diagnosis.causes.map((c) => c.code).sort()).toEqual([...codes].sort());
      if (codes.includes('channel-order' as never)) {
        expect(run.diagnosis.causes.find((c) => c.code === 'channel-order')?.detail).toMatch(/RGB.*BGR/);
        expect(run.diagnosis.causes.find((c) => c.code === 'normalization')?.detail).toMatch(/\[0, 1\].*\[-1, 1\]/);
      }
      expect(run.ref.header.runtime.name).toBe('onnxruntime-node');
    });
  }
});
