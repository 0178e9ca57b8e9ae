/**
 * Issue 14 item 4 / issue 12 item 9 on real models whose outputs are not class scores: MoveNet Lightning
 * (17 body keypoints [y, x, score], 0..1 of the 192×192 input) traced on TF.js wasm and cpu on a photo
 * of a person, compared through the CLI (`exray compare`, the card found by the model's sha256) and
 * without a card (the kind guessed). The summary is keypoint distances, never "top-1". And the issue's
 * own no-card case: human's faceres (an age softmax, a gender sigmoid and a 1024-value pooled embedding),
 * from the pinned @vladmandic/human dev dependency.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareInput } from '../src/cli/commands/trace.ts';
import { writeTrace } from '../src/cli/io.ts';
import { compareTraces, type Comparison } from '../src/compare/index.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { PreprocessSpec, Trace } from '../src/trace/types.ts';
import { MODELS, ROOT, runCli, SAMPLES } from './helpers.ts';

const MODEL = join(MODELS, 'movenet-lightning');
const tmp = mkdtempSync(join(tmpdir(), 'exray-kinds-'));
let edge: Trace;
let ref: Trace;
const files = { edge: join(tmp, 'wasm.exray'), ref: join(tmp, 'cpu.exray') };

beforeAll(async () => {
  const prepared = await prepareInput(MODEL, { image: join(SAMPLES, 'astronaut.png') });
  edge = await traceInNode({ model: MODEL, backend: 'wasm', ...prepared, capture: 'stats', runs: 1, warmup: 0 });
  // The reference records final outputs only (timing capture): TF.js cpu is slow per node.
  ref = await traceInNode({ model: MODEL, backend: 'cpu', ...prepared, capture: 'timing', runs: 1, warmup: 0 });
  await writeTrace(files.edge, edge);
  await writeTrace(files.ref, ref);
}, 60_000);

/** (y, x) distances of the 17 points, read straight from the two traces. */
function distances(): number[] {
  const get = (t: Trace): Float32Array | Int32Array => t.blobs.get(t.header.outputs[0]!.blob!.id)!;
  const e = get(edge);
  const r = get(ref);
  return Array.from({ length: 17 }, (_, p) => Math.hypot(e[p * 3]! - r[p * 3]!, e[p * 3 + 1]! - r[p * 3 + 1]!));
}

describe('movenet-lightning wasm vs cpu: keypoints, not class scores', () => {
  it('exray compare --json: the card says keypoints; mean / max distance, also in input pixels; no top-1', async () => {
    const res = await runCli(['compare', files.edge, files.ref, '--json']);
    expect(res.code).toBe(0);
    const c = JSON.parse(res.out) as Comparison;
    expect(c.verdict, c.summary).toBe('ok');
    const out = c.outputs.tensors[0]!;
    expect(out.kind).toEqual({ kind: 'keypoints', keypoints: { components: ['y', 'x', 'score'], units: 'normalized', width: 192, height: 192 }, source: 'given', why: 'card' });
    expect(out.topK).toBeNull();
    expect(c.outputs.top1Equal).toBeNull();
    if (out.measure?.kind !== 'keypoints') throw new Error(`expected a keypoints measure, got ${JSON.stringify(out.measure)}`);
    const d = distances();
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    expect(out.measure.points).toBe(17);
    expect(out.measure.meanDistance).toBeCloseTo(mean, 9);
    expect(out.measure.maxDistance).toBe(Math.max(...d));
    expect(out.measure.worstPoint).toBe(d.indexOf(Math.max(...d)));
    // The same input square on both axes: pixels are 192 × the normalized distance.
    expect(out.measure.pixels!.meanDistance).toBeCloseTo(mean * 192, 6);
    // Two float32 backends on the same input agree to well under a pixel.
    expect(out.measure.pixels!.maxDistance).toBeLessThan(0.5);
    expect(c.summary).toContain('; Identity:0: keypoints: 17 points, mean distance');
    expect(c.summary).not.toContain('top-1');

    const text = await runCli(['compare', files.edge, files.ref]);
    expect(text.out).toMatch(/^outputs: +ok; Identity:0: keypoints: 17 points, mean distance \S+, max \S+ \(#\d+\) \(\S+ \/ \S+ px\)$/m);
  }, 60_000);

  it('without a card the kind is guessed from the shape and values, and labelled a guess', () => {
    const c = compareTraces(edge, ref);
    const out = c.outputs.tensors[0]!;
    expect(out.kind).toMatchObject({ kind: 'keypoints', source: 'guess', why: '[1,1,17,3]: 17 points × 3, coordinates in 0..1' });
    expect(out.measure).toMatchObject({ kind: 'keypoints', points: 17, pixels: null });
    expect(out.measureText).toMatch(/^keypoints \(guess\): 17 points, mean distance /);
    expect(c.outputs.top1Equal).toBeNull();
  });
});

describe('faceres without a card (issue 12 item 9): the embedding is an embedding, the age softmax class scores', () => {
  it('cosine for global_pooling/Mean, top-k only for age_pred, each labelled a guess', async () => {
    const model = join(ROOT, 'node_modules', '@vladmandic', 'human', 'models', 'faceres.json');
    const { image, source } = await decodeImageFile(join(SAMPLES, 'astronaut.png'));
    // human's faceres pre-processing: the face crop resized to 224, RGB, x/255 (src/face/faceres.ts).
    const spec: PreprocessSpec = {
      width: 224,
      height: 224,
      resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: false },
      fit: 'stretch',
      channels: 'rgb',
      layout: 'nhwc',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      dtype: 'float32',
      exif: 'apply',
      alpha: 'ignore',
    };
    const x = preprocess(image, source.exifOrientation, spec);
    const feed = [{ name: 'input_1', shape: x.shape, dtype: x.dtype, data: x.data }];
    const r = await traceInNode({ model, backend: 'wasm', feed, feedFile: 'astronaut.png', capture: 'stats', runs: 1, warmup: 0 });
    // The edge: the same run with its outputs rounded to 4 significant digits, about what a half-float
    // run keeps (one traced run: the model is too slow on TF.js cpu for a quick test).
    const e = structuredClone(r);
    for (const o of e.header.outputs) {
      const d = e.blobs.get(o.blob!.id)!;
      for (let i = 0; i < d.length; i++) d[i] = Number(d[i]!.toPrecision(4));
    }
    const c = compareTraces(e, r);
    const by = (n: string) => c.outputs.tensors.find((t) => t.name.startsWith(n))!;
    const emb = by('global_pooling/Mean');
    expect(emb.refShape).toEqual([1, 1024]);
    expect(emb.kind).toMatchObject({ kind: 'embedding', source: 'guess' });
    expect(emb.topK).toBeNull();
    expect(emb.measure).toEqual({ kind: 'embedding', cosine: emb.metrics!.cosine });
    expect(emb.metrics!.cosine).toBeGreaterThan(0.9999);
    expect(emb.metrics!.cosine).toBeLessThan(1);
    expect(emb.measureText).toMatch(/^embedding \(guess\): cosine /);
    const age = by('age_pred');
    expect(age.kind).toMatchObject({ kind: 'scores', source: 'guess', activation: 'softmax' });
    expect(age.topK?.classes).toBe(100);
    expect(age.measure).toMatchObject({ kind: 'scores', classes: 100, k: 5, top1Equal: age.topK!.top1Equal });
    // The farm's top-1 agreement is the age's, the only class scores.
    expect(c.outputs.top1Equal).toBe(age.topK!.top1Equal);
    expect(by('gender_pred').kind.kind).toBe('regression');
  }, 60_000);
});
