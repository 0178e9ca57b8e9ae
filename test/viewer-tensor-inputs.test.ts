/**
 * The page's tensor inputs (src/viewer/load/tensor-inputs.ts) on the real Silero VAD v5 sample: its ONNX inputs and card as the page
 * loads them (onnxLoadedModel), the bundled sample files, card defaults, checks and the job input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExrayInputError } from '../src/errors.ts';
import { parseModelCard } from '../src/models/card-schema.ts';
import { hasImageInput } from '../src/viewer/load/model.ts';
import { onnxLoadedModel } from '../src/viewer/load/onnx-model.ts';
import { cardDefault, initialSlots, runInput, tensorsFromFile, tensorsProblem, zerosFor, type TensorSlot } from '../src/viewer/load/tensor-inputs.ts';

const ROOT = join(import.meta.dirname, '..');
const VAD = join(ROOT, 'models', 'silero-vad-v5');
const SAMPLES = join(ROOT, 'public', 'samples', 'tensors', 'silero-vad-v5');
const card = parseModelCard(JSON.parse(readFileSync(join(VAD, 'exray.json'), 'utf8')), 'exray.json');
const onnx = readFileSync(join(VAD, 'model.onnx'));
const model = await onnxLoadedModel(onnx.buffer.slice(onnx.byteOffset, onnx.byteOffset + onnx.byteLength), { name: 'silero-vad-v5', origin: 'sample', card, file: 'model.onnx' });
const specs = model.tensorInputs!;
const spec = (name: string) => specs.find((s) => s.name === name)!;
const bytes = (f: string): Uint8Array => new Uint8Array(readFileSync(join(SAMPLES, f)));

function problemOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ExrayInputError);
    return (e as ExrayInputError).message;
  }
  throw new Error('expected an ExrayInputError');
}

describe('Silero VAD as the page loads it', () => {
  it('takes no photo: its three inputs are tensor inputs, with the model\'s shapes and ORT types', () => {
    expect(hasImageInput(model)).toBe(false);
    expect(model.inputName).toBeUndefined();
    expect(specs.map((s) => [s.name, s.dtype, s.shape, s.rankKnown, s.ortType])).toEqual([
      ['input', 'float32', [null, null], true, 'float32'],
      ['state', 'float32', [2, null, 128], true, 'float32'],
      ['sr', 'int64', [], true, 'int64'],
    ]);
  });

  it('fills the card defaults at load (zero state, sr 16000) and waits for the audio frame', () => {
    const slots = initialSlots(specs);
    expect(slots['input']!.tensor).toBeNull();
    expect(slots['state']!.tensor).toMatchObject({ shape: [2, 1, 128], dtype: 'float32', origin: 'card default 0', stats: { min: 0, max: 0, mean: 0 } });
    expect(slots['sr']!.tensor).toMatchObject({ shape: [], dtype: 'int64' });
    expect([...slots['sr']!.tensor!.data]).toEqual([16000]);
    expect(tensorsProblem(specs, slots)).toBe('give a tensor for input "input"');
    // Zeros are offered where at most one dimension (the batch) is symbolic.
    expect(zerosFor(spec('state'))?.shape).toEqual([2, 1, 128]);
    expect(zerosFor(spec('input'))).toBeNull();
    expect(cardDefault(spec('input'))).toBeNull();
  });

  it('assigns the bundled files to their inputs (by target, or by file name) with their statistics', () => {
    const [frame] = tensorsFromFile(bytes('speech_input.npy'), 'speech_input.npy', specs, 'input');
    expect(frame).toMatchObject({ name: 'input', shape: [1, 576], dtype: 'float32', origin: 'speech_input.npy' });
    let min = Infinity;
    let max = -Infinity;
    for (const v of frame!.data) [min, max] = [Math.min(min, v), Math.max(max, v)];
    expect(frame!.stats.min).toBe(min);
    expect(frame!.stats.max).toBe(max);
    // No target: the file's base name picks the input.
    expect(tensorsFromFile(bytes('sr.npy'), 'samples/sr.npy', specs)[0]).toMatchObject({ name: 'sr', dtype: 'int64' });
    // A JSON map feeds the inputs it names.
    const json = new TextEncoder().encode(JSON.stringify({ sr: { shape: [], dtype: 'int64', data: [8000] }, state: { shape: [2, 1, 128], data: new Array(256).fill(0.5) } }));
    expect(tensorsFromFile(json, 'both.json', specs).map((t) => [t.name, t.stats.mean])).toEqual([
      ['sr', 8000],
      ['state', 0.5],
    ]);
  });

  it('refuses, naming the file: a wrong shape, a wrong dtype family, an unknown input, an unnamed file', () => {
    expect(problemOf(() => tensorsFromFile(bytes('speech_input.npy'), 'speech_input.npy', specs, 'state'))).toBe(
      'speech_input.npy: input "state": shape [1,576] has rank 2, model input "state" is [2,?,128] (rank 3)',
    );
    const wrongDim = new TextEncoder().encode(JSON.stringify({ shape: [2, 1, 64], data: new Array(128).fill(0) }));
    expect(problemOf(() => tensorsFromFile(wrongDim, 'state64.json', specs, 'state'))).toBe('state64.json: input "state": shape [2,1,64] does not match model input "state" [2,?,128]');
    const floatSr = new TextEncoder().encode(JSON.stringify({ shape: [], data: [16000] }));
    expect(problemOf(() => tensorsFromFile(floatSr, 'sr.json', specs, 'sr'))).toBe('sr.json: input "sr": dtype float32, model input "sr" expects int64');
    const other = new TextEncoder().encode(JSON.stringify({ h: { shape: [1], data: [0] } }));
    expect(problemOf(() => tensorsFromFile(other, 'h.json', specs))).toMatch(/^h\.json: has a tensor named "h", which is not an input of the model \(inputs: input, state, sr\)/);
    expect(problemOf(() => tensorsFromFile(bytes('speech_input.npy'), 'frame.npy', specs))).toMatch(/^frame\.npy: does not say which input it feeds/);
  });

  it('builds the job input: the audio frame first, state and sr as the named others', () => {
    const slots: Record<string, TensorSlot> = initialSlots(specs);
    slots['input'] = { tensor: tensorsFromFile(bytes('speech_input.npy'), 'speech_input.npy', specs, 'input')[0]!, error: null };
    slots['state'] = { tensor: tensorsFromFile(bytes('speech_state.npy'), 'speech_state.npy', specs, 'state')[0]!, error: null };
    expect(tensorsProblem(specs, slots)).toBeNull();
    const input = runInput(model, null, slots);
    expect(input).toMatchObject({ name: 'input', shape: [1, 576], dtype: 'float32' });
    expect(input.data).toBe(slots['input'].tensor!.data);
    expect(input.others?.map((o) => [o.name, o.dtype, o.shape])).toEqual([
      ['state', 'float32', [2, 1, 128]],
      ['sr', 'int64', []],
    ]);
  });
});
