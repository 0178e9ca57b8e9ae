/**
 * Sample models: cards, extraction, the Node loader, and each card checked against the real model.
 * Runs TF.js on the cpu backend; the whole file stays well under a minute on 2 cores.
 */
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExrayInputError } from '../src/errors.ts';
import { loadModelCard, parseModelCard, type CardInput, type ModelCard } from '../src/models/card.ts';
import { extractModels, type ExtractReport } from '../src/models/extract.ts';
import { modelHash } from '../src/models/hash.ts';
import { loadTfjsModelFromDir, type LoadedTfjsModel } from '../src/models/load-node.ts';
import { checkShards, readTfjsModelJson, weightByteSize } from '../src/models/manifest.ts';
import { listSampleModels, type SampleModel } from '../src/models/samples.ts';
import { SAMPLE_SOURCES } from '../src/models/sources.ts';
import type { DType, PreprocessSpec } from '../src/trace/types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXPECTED = [
  'blazeface', 'centernet', 'emotion', 'handtrack', 'movenet-lightning',
  'nsfw-inception-v3', 'nsfw-mobilenet-v2', 'nsfw-mobilenet-v2-mid',
];

const ONNX_SAMPLES = new Set(SAMPLE_SOURCES.filter((s) => s.kind === 'onnx-file').map((s) => s.name));

let report: ExtractReport;
let samples: SampleModel[];
let tmp: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  report = await extractModels({ projectRoot: ROOT });
  // The TF.js samples; the ONNX ones (format onnx) are tested in test/ort-models.test.ts.
  samples = (await listSampleModels(ROOT)).filter((s) => s.card.format !== 'onnx');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'exray-models-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function sample(name: string): SampleModel {
  const s = samples.find((m) => m.name === name);
  if (!s) throw new Error(`no sample model ${name}`);
  return s;
}

/** How TF.js holds a tensor of a declared dtype (it has no uint8 / int64 / float16 tensors). */
function tfDtype(d: DType): tf.DataType {
  if (d === 'float32' || d === 'float16') return 'float32';
  if (d === 'bool' || d === 'string') return d;
  return 'int32';
}

/** The card's input shape with unknown dims filled: batch 1, spatial dims from the pre-processing spec. */
function concreteShape(input: CardInput): number[] {
  const pp = input.preprocess;
  return input.shape.map((d, i) => {
    if (d !== null) return d;
    if (i === 0) return 1;
    if (pp) {
      const [h, w] = pp.layout === 'nhwc' ? [1, 2] : [2, 3];
      if (i === h) return pp.height;
      if (i === w) return pp.width;
    }
    throw new Error(`input ${input.name}: cannot choose a size for dim ${i}`);
  });
}

/** A constant input: mid-grey (pixel 128) through the card's normalisation for images, zeros otherwise. */
function constantInput(input: CardInput): tf.Tensor {
  const shape = concreteShape(input);
  const pp = input.preprocess;
  if (!pp) return tf.zeros(shape, tfDtype(input.dtype));
  const gray = pp.grayWeights ? pp.grayWeights.reduce((a, b) => a + b, 0) : 1;
  const values = pp.mean.map((m, c) => (128 * gray * pp.scale - m) / (pp.std[c] as number));
  return tf.tidy(() => {
    const perChannel = tf.tensor1d(values);
    const chAxisLast = pp.layout === 'nhwc';
    const base = tf.ones(shape).mul(chAxisLast ? perChannel : perChannel.reshape([values.length, 1, 1]));
    return pp.dtype === 'float32' ? base : base.floor().cast('int32');
  });
}

/** Decode an image with sharp and pre-process it exactly as the card says (stretch fit only). */
async function imageInput(file: string, pp: PreprocessSpec): Promise<tf.Tensor4D> {
  expect(pp.fit).toBe('stretch');
  let img = sharp(file);
  if (pp.exif === 'apply') img = img.rotate();
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return tf.tidy(() => {
    let x: tf.Tensor3D = tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], 'int32').toFloat();
    if (pp.channels === 'bgr') x = tf.reverse(x, -1);
    if (pp.resize.method === 'bilinear') {
      x = tf.image.resizeBilinear(x, [pp.height, pp.width], pp.resize.alignCorners, pp.resize.halfPixelCenters);
    } else {
      x = tf.image.resizeNearestNeighbor(x, [pp.height, pp.width], pp.resize.alignCorners, pp.resize.halfPixelCenters);
    }
    x = x.mul(pp.scale);
    if (pp.channels === 'grayscale' && pp.grayWeights) x = x.mul(tf.tensor1d(pp.grayWeights)).sum(-1, true);
    x = x.sub(tf.tensor1d(pp.mean)).div(tf.tensor1d(pp.std));
    let b: tf.Tensor4D = x.expandDims(0);
    if (pp.layout === 'nchw') b = b.transpose([0, 3, 1, 2]);
    return pp.dtype === 'float32' ? b : (b.cast('int32') as tf.Tensor4D);
  });
}

/** Output shape agrees with the card: same rank, every known dim equal (a null batch dim is the fed batch). */
function expectShapeMatches(actual: number[], card: (number | null)[], what: string): void {
  expect(actual.length, `${what} rank`).toBe(card.length);
  card.forEach((d, i) => {
    if (d !== null) expect(actual[i], `${what} dim ${i}`).toBe(d);
  });
}

async function copyModel(name: string, dest: string): Promise<string> {
  const dir = path.join(tmp, dest);
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(sample(name).dir)) await copyFile(path.join(sample(name).dir, f), path.join(dir, f));
  return dir;
}

async function expectInputError(p: Promise<unknown>, fileEnds: string, problem?: RegExp): Promise<ExrayInputError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ExrayInputError);
  const e = err as ExrayInputError;
  expect(e.file.endsWith(fileEnds), `error file ${e.file} should end with ${fileEnds}`).toBe(true);
  expect(e.message.startsWith(`${e.file}: `)).toBe(true);
  if (problem) expect(e.problem).toMatch(problem);
  return e;
}

describe('model cards', () => {
  it('has a valid committed card for each of the 8 sample models, matching the extraction sources', () => {
    expect(samples.map((s) => s.name)).toEqual(EXPECTED);
    expect(SAMPLE_SOURCES.filter((s) => s.kind !== 'onnx-file').map((s) => s.name).sort()).toEqual(EXPECTED);
    for (const s of samples) {
      const src = SAMPLE_SOURCES.find((x) => x.name === s.name);
      expect(s.card.source).toMatchObject({ package: src?.package, version: src?.version, path: src?.path });
      expect(s.card.modelFile).toBe('model.json');
      for (const input of s.card.inputs) {
        if (input.kind === 'image') expect(input.preprocess, `${s.name} ${input.name}`).toBeDefined();
      }
    }
  });

  it('records the pre-processing each package actually does', () => {
    const nsfw = sample('nsfw-mobilenet-v2').card.inputs[0]?.preprocess;
    expect(nsfw).toMatchObject({ width: 224, height: 224, channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(nsfw?.resize).toMatchObject({ method: 'bilinear', alignCorners: true, halfPixelCenters: false });
    expect(sample('nsfw-inception-v3').card.inputs[0]?.preprocess).toMatchObject({ width: 299, height: 299 });
    expect(sample('nsfw-mobilenet-v2').card.outputs[0]?.labels).toEqual(['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
    expect(sample('blazeface').card.inputs[0]?.preprocess).toMatchObject({ scale: 1, mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] });
    expect(sample('movenet-lightning').card.inputs[0]?.preprocess).toMatchObject({ dtype: 'int32', fit: 'letterbox', width: 192 });
    expect(sample('emotion').card.inputs[0]?.preprocess).toMatchObject({ channels: 'grayscale', grayWeights: [0.2989, 0.587, 0.114], mean: [0.5], std: [0.5] });
    const coco = sample('centernet').card.outputs.find((o) => o.name === 'tower_0/detections')?.labels;
    expect(coco).toHaveLength(80);
    expect([coco?.[0], coco?.[41], coco?.[79]]).toEqual(['person', 'cup', 'toothbrush']);
    expect(sample('handtrack').card.execution).toBe('async');
  });

  const base = (): Record<string, unknown> => structuredClone(sample('nsfw-mobilenet-v2').card) as unknown as Record<string, unknown>;
  const bad: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    ['mean of the wrong length', (c) => { pp(c)['mean'] = [0, 0]; }, /^inputs\[0\]\.preprocess\.mean must have 3 entries for channels "rgb", got 2$/],
    ['std of zero', (c) => { pp(c)['std'] = [1, 0, 1]; }, /inputs\[0\]\.preprocess\.std\[1\] must not be 0/],
    ['non-positive width', (c) => { pp(c)['width'] = 0; }, /inputs\[0\]\.preprocess\.width must be > 0/],
    ['size that contradicts the shape', (c) => { pp(c)['width'] = 300; }, /inputs\[0\]\.shape\[2\] is 224 but preprocess width is 300/],
    ['unknown field', (c) => { c['colour'] = 'red'; }, /card has unknown field "colour"/],
    ['bad enum', (c) => { c['format'] = 'tflite'; }, /format must be one of "tfjs-graph", "tfjs-layers", "onnx", got the string "tflite"/],
    ['missing preprocess on an image input', (c) => { delete (c['inputs'] as Record<string, unknown>[])[0]?.['preprocess']; }, /inputs\[0\]\.preprocess is required for kind "image"/],
    ['missing field', (c) => { delete c['execution']; }, /^execution is required$/],
    ['async layers model', (c) => { c['execution'] = 'async'; }, /execution must be "sync" for format "tfjs-layers"/],
    ['labels that do not fit the classes', (c) => { (c['outputs'] as Record<string, unknown>[])[0]!['labels'] = ['a', 'b']; }, /outputs\[0\]\.labels has 2 entries but the last dimension of shape is 5/],
    ['wrong card version', (c) => { c['cardVersion'] = 2; }, /cardVersion must be 1, got 2/],
    ['grayscale without weights', (c) => { Object.assign(pp(c), { channels: 'grayscale', mean: [0], std: [1] }); }, /grayWeights is required for channels "grayscale"/],
    ['float spec on an int input', (c) => { (c['inputs'] as Record<string, unknown>[])[0]!['dtype'] = 'int32'; }, /inputs\[0\]\.preprocess\.dtype "float32" cannot feed an input of dtype "int32"/],
  ];
  function pp(c: Record<string, unknown>): Record<string, unknown> {
    return (c['inputs'] as Record<string, Record<string, unknown>>[])[0]!['preprocess'] as Record<string, unknown>;
  }

  it.each(bad)('rejects a card with %s, naming the file and field', (_what, mutate, problem) => {
    const c = base();
    mutate(c);
    let err: unknown;
    try {
      parseModelCard(c, 'models/x/exray.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExrayInputError);
    expect((err as ExrayInputError).file).toBe('models/x/exray.json');
    expect((err as ExrayInputError).problem).toMatch(problem);
    expect((err as ExrayInputError).message).toMatch(/^models\/x\/exray\.json: /);
  });

  it('loadModelCard names the file for a corrupted card on disk', async () => {
    const c = base();
    pp(c)['mean'] = [0, 0];
    const file = path.join(tmp, 'bad-card', 'exray.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(c));
    const e = await expectInputError(loadModelCard(file), file, /inputs\[0\]\.preprocess\.mean must have 3 entries for channels "rgb"/);
    expect(e.message).toContain(file);
    await writeFile(file, '{ "cardVersion": 1, ');
    await expectInputError(loadModelCard(file), file, /is not valid JSON/);
    await expectInputError(loadModelCard(path.join(tmp, 'nope', 'exray.json')), path.join('nope', 'exray.json'), /file not found/);
  });
});

describe('extraction', () => {
  it('produced every model file, with shard sizes matching the manifests', async () => {
    expect(report.models.map((m) => m.name).filter((n) => !ONNX_SAMPLES.has(n)).sort()).toEqual(EXPECTED);
    await stat(report.marker);
    for (const s of samples) {
      const modelJsonPath = path.join(s.dir, 'model.json');
      const { model } = await readTfjsModelJson(modelJsonPath);
      expect(model.kind, s.name).toBe(s.card.format);
      const shards = await checkShards(s.dir, model, modelJsonPath);
      expect(shards.length).toBeGreaterThan(0);
      for (const [gi, group] of model.weightsManifest.entries()) {
        group.paths.forEach((p, i) => expect(p).toBe(`group${gi + 1}-shard${i + 1}of${group.paths.length}.bin`));
        const need = group.weights.reduce((a, w) => a + (weightByteSize(w) ?? Number.NaN), 0);
        const have = shards.filter((sh) => group.paths.includes(sh.rel)).reduce((a, sh) => a + sh.bytes, 0);
        expect(have, `${s.name} group ${gi}`).toBe(need);
      }
      const onDisk = (await readdir(s.dir)).filter((f) => f !== 'exray.json').sort();
      expect(onDisk, s.name).toEqual(['model.json', ...shards.map((sh) => sh.rel)].sort());
    }
  });

  it('is idempotent: a second extraction rewrites nothing', async () => {
    const modelJson = path.join(ROOT, 'models', 'nsfw-mobilenet-v2', 'model.json');
    const before = (await stat(modelJson)).mtimeMs;
    const again = await extractModels({ projectRoot: ROOT });
    expect(again.models.every((m) => m.status === 'up-to-date')).toBe(true);
    expect((await stat(modelJson)).mtimeMs).toBe(before);
  });

  it('extracts into a fresh root, re-extracts a damaged model, and hashes identically', async () => {
    const root = path.join(tmp, 'root');
    const lines: string[] = [];
    const r1 = await extractModels({ projectRoot: root, resolveFrom: ROOT, only: ['emotion', 'nsfw-mobilenet-v2'], log: (l) => lines.push(l) });
    expect(r1.models.map((m) => [m.name, m.status, m.method])).toEqual([['nsfw-mobilenet-v2', 'extracted', 'literal'], ['emotion', 'extracted', 'copy']]);
    expect(lines.join('\n')).not.toMatch(/vm context/);
    expect(await modelHash(path.join(root, 'models', 'nsfw-mobilenet-v2'))).toBe(await modelHash(sample('nsfw-mobilenet-v2').dir));

    const shard = path.join(root, 'models', 'emotion', 'group1-shard1of1.bin');
    await truncate(shard, 1000);
    const r2 = await extractModels({ projectRoot: root, resolveFrom: ROOT, only: ['emotion'] });
    expect(r2.models[0]?.status).toBe('extracted');
    expect(await modelHash(path.join(root, 'models', 'emotion'))).toBe(await modelHash(sample('emotion').dir));
    const r3 = await extractModels({ projectRoot: root, resolveFrom: ROOT, only: ['emotion'] });
    expect(r3.models[0]?.status).toBe('up-to-date');
    await expectInputError(extractModels({ projectRoot: root, resolveFrom: ROOT, only: ['nope'] }), 'models', /unknown sample model "nope"/);
  });

  it('modelHash covers model.json and every shard', async () => {
    const h = await modelHash(sample('emotion').dir);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await modelHash(path.join(sample('emotion').dir, 'model.json'))).toBe(h);
    const dir = await copyModel('emotion', 'hash-copy');
    const shard = path.join(dir, 'group1-shard1of1.bin');
    const bytes = await readFile(shard);
    bytes[12345] = (bytes[12345] ?? 0) ^ 1;
    await writeFile(shard, bytes);
    expect(await modelHash(dir)).not.toBe(h);
  });
});

describe('Node loader errors', () => {
  it('names a truncated shard (single-shard and multi-shard groups)', async () => {
    const one = await copyModel('blazeface', 'trunc-one');
    await truncate(path.join(one, 'group1-shard1of1.bin'), 1000);
    await expectInputError(loadTfjsModelFromDir(one, tf), 'group1-shard1of1.bin', /^truncated: holds 1000 bytes but weightsManifest\[0\] needs 538928 bytes/);

    const multi = await copyModel('nsfw-mobilenet-v2-mid', 'trunc-multi');
    await truncate(path.join(multi, 'group1-shard1of2.bin'), 4_000_000);
    await expectInputError(loadTfjsModelFromDir(multi, tf), 'group1-shard1of2.bin', /truncated/);

    const last = await copyModel('nsfw-mobilenet-v2-mid', 'trunc-last');
    await truncate(path.join(last, 'group1-shard2of2.bin'), 100);
    await expectInputError(loadTfjsModelFromDir(path.join(last, 'model.json'), tf), 'group1-shard2of2.bin', /truncated/);
  });

  it('names a shard that is too long or missing', async () => {
    const long = await copyModel('emotion', 'long');
    await appendFile(path.join(long, 'group1-shard1of1.bin'), Buffer.alloc(3));
    await expectInputError(loadTfjsModelFromDir(long, tf), 'group1-shard1of1.bin', /^too long: holds 820519 bytes/);
    const missing = await copyModel('emotion', 'missing');
    await rm(path.join(missing, 'group1-shard1of1.bin'));
    await expectInputError(loadTfjsModelFromDir(missing, tf), 'group1-shard1of1.bin', /is missing/);
  });

  it('names a missing directory, a missing / non-JSON / non-TF.js model.json', async () => {
    await expectInputError(loadTfjsModelFromDir(path.join(tmp, 'no-such-dir'), tf), 'no-such-dir', /does not exist/);
    const empty = path.join(tmp, 'empty');
    await mkdir(empty, { recursive: true });
    await expectInputError(loadTfjsModelFromDir(empty, tf), path.join('empty', 'model.json'), /model\.json is missing/);
    const notJson = await copyModel('emotion', 'not-json');
    await writeFile(path.join(notJson, 'model.json'), '{"modelTopology": ');
    await expectInputError(loadTfjsModelFromDir(notJson, tf), 'model.json', /is not valid JSON/);
    await writeFile(path.join(notJson, 'model.json'), JSON.stringify({ hello: 'world' }));
    await expectInputError(loadTfjsModelFromDir(notJson, tf), 'model.json', /is not a TF\.js model/);
    await writeFile(path.join(notJson, 'model.json'), JSON.stringify({ modelTopology: { node: [] }, weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }] }));
    await expectInputError(loadTfjsModelFromDir(notJson, tf), 'model.json', /not a file inside the model directory/);
  });
});

describe('each card matches its real model (TF.js cpu)', () => {
  const run = EXPECTED.filter((n) => n !== 'nsfw-inception-v3');

  it.each(run)('%s: inputs, execution mode and outputs', async (name) => {
    const { card, dir } = sample(name);
    const loaded = await loadTfjsModelFromDir(dir, tf);
    const { model, format } = loaded;
    expect(format).toBe(card.format);
    checkInputs(card, loaded, dir);
    const feeds = card.inputs.map((i) => constantInput(i));
    try {
      const outs = await runModel(card, model, feeds);
      expect(outs).toHaveLength(card.outputs.length);
      for (const [i, o] of card.outputs.entries()) {
        const t = outs[i] as tf.Tensor;
        expectShapeMatches(t.shape, o.shape, `${name} output ${o.name}`);
        expect(t.dtype).toBe(tfDtype(o.dtype));
        const v = await t.data();
        expect(v.every((x) => Number.isFinite(x) || Number.isNaN(x)), `${o.name} has infinities`).toBe(true);
        if (o.meaning === 'classification') {
          const rows = v.length / (o.labels?.length ?? 1);
          const sum = Array.from(v).reduce((a, b) => a + b, 0);
          expect(sum / rows).toBeCloseTo(1, 4);
        }
      }
      tf.dispose(outs);
    } finally {
      tf.dispose(feeds);
      model.dispose();
    }
  });

  it('nsfw-inception-v3: loads, and its declared input / output match the card (no inference: too slow on cpu)', async () => {
    const { card, dir } = sample('nsfw-inception-v3');
    const loaded = await loadTfjsModelFromDir(dir, tf);
    const { model, format } = loaded;
    expect(format).toBe('tfjs-layers');
    checkInputs(card, loaded, dir);
    expect(model.outputs.map((o) => o.shape)).toEqual(card.outputs.map((o) => o.shape));
    model.dispose();
  });

  it('nsfw-mobilenet-v2 on chelsea.png: card-driven pre-processing gives probabilities that sum to 1 and match nsfwjs itself', async () => {
    const { card, dir } = sample('nsfw-mobilenet-v2');
    const pp = card.inputs[0]?.preprocess as PreprocessSpec;
    const file = path.join(ROOT, 'public', 'samples', 'chelsea.png');
    const x = await imageInput(file, pp);
    expect(x.shape).toEqual([1, 224, 224, 3]);
    const { model } = await loadTfjsModelFromDir(dir, tf);
    const y = (model as tf.LayersModel).predict(x) as tf.Tensor;
    const probs = Array.from(await y.data());
    expect(probs).toHaveLength(5);
    expect(probs.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const labels = card.outputs[0]?.labels ?? [];
    expect(labels[probs.indexOf(Math.max(...probs))]).toBe('Neutral');

    // nsfwjs's own pipeline (its bundled copy of the weights, its infer()) on the same pixels.
    const nsfwjs = await import('nsfwjs');
    const info = console.info;
    console.info = (): void => {};
    const net = await nsfwjs.load('MobileNetV2').finally(() => { console.info = info; });
    const { data, info: meta } = await sharp(file).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const img = tf.tensor3d(new Int32Array(data), [meta.height, meta.width, 3], 'int32');
    const theirs = Array.from(await (net.infer(img) as tf.Tensor).data());
    theirs.forEach((p, i) => expect(Math.abs(p - (probs[i] as number)), `class ${labels[i]}`).toBeLessThan(1e-4));
    tf.dispose([x, y, img]);
    net.dispose();
    model.dispose();
  });
});

function checkInputs(card: ModelCard, loaded: LoadedTfjsModel, dir: string): void {
  const { model } = loaded;
  expect(model.inputs).toHaveLength(card.inputs.length);
  card.inputs.forEach((ci, i) => {
    const mi = model.inputs[i] as { name: string; shape?: (number | null)[]; dtype?: string };
    const shape = (mi.shape ?? []).map((d) => (d === null || d === -1 ? null : d));
    expect(shape, `${dir} input ${i} shape`).toEqual(ci.shape);
    expect(mi.dtype, `${dir} input ${i} dtype`).toBe(tfDtype(ci.dtype));
    if (card.format === 'tfjs-graph') expect(mi.name).toBe(ci.name);
  });
  if (card.format === 'tfjs-graph') {
    expect((model as tf.GraphModel).outputs.map((o) => o.name)).toEqual(card.outputs.map((o) => o.name));
  } else {
    // TF.js suffixes layer names already used in the process (input_1_1), so compare with model.json.
    const config = (loaded.modelJson as { modelTopology: { model_config: { config: { input_layers: [string][]; output_layers: [string][] } } } })
      .modelTopology.model_config.config;
    expect(config.input_layers.map((l) => l[0])).toEqual(card.inputs.map((i) => i.name));
    expect(config.output_layers.map((l) => l[0])).toEqual(card.outputs.map((o) => o.name));
  }
}

async function runModel(card: ModelCard, model: tf.GraphModel | tf.LayersModel, feeds: tf.Tensor[]): Promise<tf.Tensor[]> {
  if (card.format === 'tfjs-layers') {
    const y = (model as tf.LayersModel).predict(feeds.length === 1 ? (feeds[0] as tf.Tensor) : feeds);
    return Array.isArray(y) ? y : [y];
  }
  const g = model as tf.GraphModel;
  const feed: tf.NamedTensorMap = Object.fromEntries(card.inputs.map((ci, i) => [ci.name, feeds[i] as tf.Tensor]));
  const names = card.outputs.map((o) => o.name);
  if (card.execution === 'async') {
    // The card says async: plain execute must refuse (dynamic ops / control flow).
    expect(() => g.execute(feed, names)).toThrow(/executeAsync/);
    const y = await g.executeAsync(feed, names);
    return Array.isArray(y) ? y : [y];
  }
  const y = g.execute(feed, names);
  return Array.isArray(y) ? y : [y];
}
