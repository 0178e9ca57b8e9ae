/**
 * `exray trace` checks the model card it uses (`--card`, or the one beside the model) against the
 * model it runs: a card whose input or output names are not the model's is refused, naming the card
 * file, the model's names (expected) and the card's (found), before any run and without writing the
 * trace, in Node and with --browser. Real models: the PP-OCR direction classifier (ONNX) and the emotion
 * CNN (TF.js graph).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCardAgainstModel } from '../src/cli/card-check.ts';
import { ExrayInputError } from '../src/errors.ts';
import type { ModelCard } from '../src/models/card-schema.ts';
import { MODELS, SAMPLES, runCli } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-card-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Json = Record<string, unknown> & { inputs: { name: string }[]; outputs: { name: string }[] };
const cardOf = (name: string): Json => JSON.parse(readFileSync(join(MODELS, name, 'exray.json'), 'utf8')) as Json;

function writeCard(file: string, edit: (c: Json) => void, base: string): string {
  const c = cardOf(base);
  edit(c);
  writeFileSync(file, JSON.stringify(c));
  return file;
}

const photo = join(SAMPLES, 'astronaut.png');
const run = ['--backend', 'cpu', '--capture', 'timing', '--runs', '1', '--warmup', '0'];

describe('exray trace: the card must describe the model traced', () => {
  it('ONNX (PP-OCR cls): a wrong output name is refused naming the card and both names; nothing is written', async () => {
    const card = writeCard(join(tmp, 'cls-wrong-output.json'), (c) => (c.outputs[0]!.name = 'probabilities'), 'ppocr-mobile-v2-cls');
    const out = join(tmp, 'cls-wrong.exray');
    const r = await runCli(['trace', join(MODELS, 'ppocr-mobile-v2-cls', 'model.onnx'), '--card', card, '--image', photo, ...run, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${card}: this model card does not describe the model traced`);
    expect(r.err).toContain('its outputs do not match the model\'s: expected "softmax_0.tmp_0"');
    expect(r.err).toContain('found "probabilities" in the card (not in the model: "probabilities"; not in the card: "softmax_0.tmp_0")');
    expect(existsSync(out)).toBe(false);
  }, 30_000);

  it('ONNX: the right card given with --card traces; a wrong input name beside the model is refused as well', async () => {
    const ok = join(tmp, 'cls-ok.exray');
    const good = await runCli(['trace', join(MODELS, 'ppocr-mobile-v2-cls', 'model.onnx'), '--card', join(MODELS, 'ppocr-mobile-v2-cls', 'exray.json'), '--image', photo, ...run, '--out', ok]);
    expect(good.err).toBe('');
    expect(good.code).toBe(0);
    expect(existsSync(ok)).toBe(true);
    // The card found beside the model (<stem>.exray.json) is checked too, with --input (the card is not read for feeding).
    const dir = join(tmp, 'ocr');
    mkdirSync(dir);
    copyFileSync(join(MODELS, 'ppocr-mobile-v2-cls', 'model.onnx'), join(dir, 'cls.onnx'));
    const beside = writeCard(join(dir, 'cls.exray.json'), (c) => {
      c.inputs[0]!.name = 'image';
      c['name'] = 'cls';
      c['modelFile'] = 'cls.onnx';
    }, 'ppocr-mobile-v2-cls');
    const r = await runCli(['trace', join(dir, 'cls.onnx'), '--input', `x=${ok}`, ...run, '--out', join(tmp, 'cls-beside.exray')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${beside}: this model card does not describe the model traced: its inputs do not match the model's: expected "x"`);
    expect(r.err).toContain('found "image" in the card');
    expect(existsSync(join(tmp, 'cls-beside.exray'))).toBe(false);
  }, 30_000);

  it('TF.js graph (emotion): a card listing an output the model does not have, and missing one it has', async () => {
    const card = writeCard(join(tmp, 'emotion-wrong.json'), (c) => (c.outputs[0]!.name = 'Softmax'), 'emotion');
    const out = join(tmp, 'emotion-wrong.exray');
    const r = await runCli(['trace', join(MODELS, 'emotion'), '--card', card, '--image', photo, ...run, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${card}: this model card does not describe the model traced: its outputs do not match the model's: expected "Identity:0" (${join(MODELS, 'emotion')}), found "Softmax" in the card (not in the model: "Softmax"; not in the card: "Identity:0")`);
    expect(existsSync(out)).toBe(false);
    // The same card with the right name, as the sample card spells it (`Identity`, TF.js `Identity:0`), traces.
    const ok = writeCard(join(tmp, 'emotion-ok.json'), (c) => (c.outputs[0]!.name = 'Identity'), 'emotion');
    const good = await runCli(['trace', join(MODELS, 'emotion'), '--card', ok, '--image', photo, ...run, '--out', join(tmp, 'emotion-ok.exray')]);
    expect(good.err).toBe('');
    expect(good.code).toBe(0);
  }, 30_000);

  it('--browser: the run-start from the page is checked the same way, before the trace is written', async () => {
    const card = writeCard(join(tmp, 'emotion-wrong-browser.json'), (c) => (c.outputs[0]!.name = 'Softmax'), 'emotion');
    const out = join(tmp, 'emotion-wrong-browser.exray');
    const r = await runCli(['trace', join(MODELS, 'emotion'), '--card', card, '--image', photo, '--browser', '--backend', 'wasm', '--capture', 'timing', '--runs', '1', '--warmup', '0', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${card}: this model card does not describe the model traced: its outputs do not match the model's: expected "Identity:0"`);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('names: exact for ONNX; TF.js `:0` and a layers model\'s per-process suffix (`dense_3_1`) count as the name', () => {
    const card = (outputs: string[], format: ModelCard['format']): ModelCard => ({ ...(cardOf('nsfw-mobilenet-v2') as unknown as ModelCard), format, outputs: outputs.map((name) => ({ name, shape: [null, 5], dtype: 'float32', meaning: 'other' })) });
    const io = (names: string[]) => names.map((name) => ({ name, shape: [], dtype: 'float32' as const }));
    const model = (format: ModelCard['format'], outs: string[]) => ({ format, inputs: io(['input_1']), outputs: io(outs) });
    expect(() => checkCardAgainstModel(card(['dense_3'], 'tfjs-layers'), 'c.json', model('tfjs-layers', ['dense_3_1']), 'm')).not.toThrow();
    expect(() => checkCardAgainstModel(card(['dense_3'], 'tfjs-graph'), 'c.json', model('tfjs-graph', ['dense_3_1']), 'm')).toThrow(ExrayInputError);
    expect(() => checkCardAgainstModel(card(['a:0', 'b'], 'tfjs-graph'), 'c.json', model('tfjs-graph', ['b:0', 'a']), 'm')).not.toThrow();
    expect(() => checkCardAgainstModel(card(['a:0'], 'onnx'), 'c.json', { ...model('onnx', ['a']), inputs: io(['input_1']) }, 'm')).toThrow(/expected "a" \(m\), found "a:0"/);
    expect(() => checkCardAgainstModel(card(['a'], 'onnx'), 'c.json', model('tfjs-graph', ['a']), 'm')).toThrow(/^c\.json: .*the card is for a onnx model, m is tfjs-graph/);
  });
});
