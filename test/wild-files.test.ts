/**
 * Models in the wild (issue #14): a TF.js model whose file is not model.json, sharing its folder with
 * another model, with its card as `<stem>.exray.json` or `--card`; an ONNX file under its own name;
 * timing-only traces compared on what they hold. Real models (@vladmandic/human@3.3.6 ships
 * `<name>.json` + `<name>.bin`; the bundled PP-OCR classifier) and real photos.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTrace } from '../src/cli/io.ts';
import type { Comparison } from '../src/compare/index.ts';
import { modelHash } from '../src/models/hash.ts';
import { modelCardPath } from '../src/models/load-node.ts';
import { MODELS, ROOT, SAMPLES, runCli } from './helpers.ts';

const HUMAN = join(ROOT, 'node_modules', '@vladmandic', 'human', 'models');
const tmp = mkdtempSync(join(tmpdir(), 'exray-wild-'));
const folder = join(tmp, 'human');
const hand = join(folder, 'handlandmark-lite.json');
const spoof = join(folder, 'antispoof.json');
const onnxDir = join(tmp, 'ocr');
const cls = join(onnxDir, 'cls.onnx');

/** handlandmark-lite as human feeds it (src/hand/handposepipeline.ts): the hand crop resized to 224², RGB / 255. */
const handCard = {
  cardVersion: 1,
  name: 'handlandmark-lite',
  description: 'MediaPipe hand landmarks (lite) from @vladmandic/human@3.3.6 models/handlandmark-lite.json: 21 landmarks, hand score, handedness, world landmarks.',
  source: { package: '@vladmandic/human', version: '3.3.6', path: 'models/handlandmark-lite.json', license: 'MIT' },
  format: 'tfjs-graph',
  modelFile: 'handlandmark-lite.json',
  execution: 'sync',
  inputs: [
    {
      name: 'input_1',
      shape: [1, 224, 224, 3],
      dtype: 'float32',
      kind: 'image',
      preprocess: {
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
      },
    },
  ],
  outputs: [
    { name: 'Identity', shape: [1, 63], dtype: 'float32', meaning: 'keypoints' },
    { name: 'Identity_1', shape: [1, 1], dtype: 'float32', meaning: 'regression' },
    { name: 'Identity_2', shape: [1, 1], dtype: 'float32', meaning: 'regression' },
    { name: 'Identity_3', shape: [1, 63], dtype: 'float32', meaning: 'keypoints' },
  ],
};

/** antispoof as human runs it (src/face/antispoof.ts): the face crop (human's face tensors are RGB / 255) resized bilinear to 128². */
const spoofCard = {
  ...handCard,
  name: 'antispoof',
  description: 'Face anti-spoofing score from @vladmandic/human@3.3.6 models/antispoof.json.',
  source: { ...handCard.source, path: 'models/antispoof.json' },
  modelFile: 'antispoof.json',
  inputs: [{ ...handCard.inputs[0]!, name: 'conv2d_input', shape: [null, 128, 128, 3], preprocess: { ...handCard.inputs[0]!.preprocess, width: 128, height: 128 } }],
  outputs: [{ name: 'activation_4', shape: [null, 1], dtype: 'float32', meaning: 'regression' }],
};

beforeAll(() => {
  mkdirSync(folder);
  for (const f of ['handlandmark-lite.json', 'handlandmark-lite.bin', 'antispoof.json', 'antispoof.bin']) copyFileSync(join(HUMAN, f), join(folder, f));
  writeFileSync(join(folder, 'handlandmark-lite.exray.json'), JSON.stringify(handCard));
  mkdirSync(join(tmp, 'cards'));
  writeFileSync(join(tmp, 'cards', 'spoof.json'), JSON.stringify(spoofCard));
  mkdirSync(onnxDir);
  copyFileSync(join(MODELS, 'ppocr-mobile-v2-cls', 'model.onnx'), cls);
  const card = JSON.parse(readFileSync(join(MODELS, 'ppocr-mobile-v2-cls', 'exray.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(onnxDir, 'cls.exray.json'), JSON.stringify({ ...card, name: 'cls', modelFile: 'cls.onnx' }));
});

describe('any model file', () => {
  it('a folder of several models is refused with their names; a model without a card says where one goes', async () => {
    const many = await runCli(['trace', folder, '--image', join(SAMPLES, 'orange.jpg'), '--out', join(tmp, 'x.exray')]);
    expect(many.code).toBe(2);
    expect(many.err).toContain(`${folder}: holds 2 TF.js models (antispoof.json, handlandmark-lite.json): pass the model file`);
    const none = await runCli(['trace', spoof, '--image', join(SAMPLES, 'orange.jpg'), '--out', join(tmp, 'x.exray')]);
    expect(none.code).toBe(2);
    expect(none.err).toContain(`${join(folder, 'antispoof.exray.json')}: no model card: --image needs one`);
    expect(none.err).toContain('--card');
  });

  it('cards: <stem>.exray.json beside the file, the folder exray.json only for its own modelFile, or --card', async () => {
    expect(await modelCardPath(hand)).toBe(join(folder, 'handlandmark-lite.exray.json'));
    expect(await modelCardPath(spoof)).toBeNull();
    expect(await modelCardPath(spoof, 'given.json')).toBe('given.json');
    expect(await modelCardPath(join(MODELS, 'emotion'))).toBe(join(MODELS, 'emotion', 'exray.json'));
    expect(await modelCardPath(join(MODELS, 'emotion', 'model.json'))).toBe(join(MODELS, 'emotion', 'exray.json'));
  });

  it('trace a <name>.json model from a shared folder on wasm with --card, reference on cpu, compare ok', async () => {
    const edge = join(tmp, 'spoof-wasm.exray');
    const ref = join(tmp, 'spoof-ref.exray');
    const t = await runCli(['trace', spoof, '--card', join(tmp, 'cards', 'spoof.json'), '--image', join(SAMPLES, 'astronaut.png'), '--backend', 'wasm', '--runs', '1', '--warmup', '0', '--out', edge]);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const h = (await readTrace(edge)).header;
    expect(h.model.name).toBe('antispoof');
    expect(h.model.sha256).toBe(await modelHash(spoof));
    expect(h.input.preprocess?.width).toBe(128);
    const r = await runCli(['reference', edge, '--model', spoof, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', ref]);
    expect(r.code).toBe(0);
    const c = await runCli(['compare', edge, ref, '--json']);
    expect(c.code).toBe(0);
    const cmp = JSON.parse(c.out) as Comparison;
    expect(cmp.verdict).toBe('ok');
    expect(cmp.sameModel).toBe(true);
    expect(cmp.basis.nodes).toBe('values');
    expect(cmp.tolerance).toMatchObject({ preset: 'float32', presetSource: 'default' });
    // The outputs' kinds come from the card given to compare (the model is not a sample, found by hash).
    expect(cmp.outputs.tensors.map((o) => o.kind.source)).toEqual(['guess']);
    const given = JSON.parse((await runCli(['compare', edge, ref, '--json', '--card', join(tmp, 'cards', 'spoof.json')])).out) as Comparison;
    expect(given.outputs.tensors.map((o) => [o.name, o.kind.kind, o.kind.source])).toEqual([['activation_4', 'regression', 'given']]);
    const beside = await runCli(['compare', edge, ref, '--model', spoof]);
    expect(beside.code).toBe(2);
    expect(beside.err).toContain(`${spoof}: no model card beside it`);
    const wrong = await runCli(['compare', edge, ref, '--card', join(folder, 'handlandmark-lite.exray.json')]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('outputs Identity, Identity_1, Identity_2, Identity_3 are not outputs of the traced model (activation_4)');
  }, 30_000);
});

describe('timing-only traces of an ONNX file under its own name (<stem>.exray.json card)', () => {
  it('wasm vs cpu: ok on final outputs, no shape judged from profiler metadata', async () => {
    const a = join(tmp, 'cls-wasm.exray');
    const b = join(tmp, 'cls-cpu.exray');
    for (const [backend, out] of [
      ['wasm', a],
      ['cpu', b],
    ] as const) {
      const t = await runCli(['trace', cls, '--image', join(SAMPLES, 'page_line1.png'), '--capture', 'timing', '--backend', backend, '--runs', '1', '--warmup', '0', '--out', out]);
      expect(t.code).toBe(0);
    }
    expect((await readTrace(a)).header.model.name).toBe('cls');
    const c = await runCli(['compare', a, b, '--json']);
    const cmp = JSON.parse(c.out) as Comparison;
    expect(cmp.counts['shape-mismatch']).toBe(0);
    expect(cmp.counts['no-data']).toBe(cmp.counts.total);
    expect(cmp.firstDivergent).toBeNull();
    expect(cmp.verdict).toBe('ok');
    expect(cmp.basis).toMatchObject({ nodes: 'none', outputs: true, timing: true });
    expect(cmp.summary).toMatch(/^ok on final outputs only: 1\/1 within tolerance; top-1 agrees \(node values not recorded: edge and reference timing capture\)$/);
    const text = await runCli(['compare', a, b]);
    expect(text.out).toMatch(/judged on: +final outputs only \(node values not recorded: edge and reference timing capture\); timing reported, not judged/);
  }, 30_000);
});
