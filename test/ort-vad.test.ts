/**
 * Silero VAD v5 (ONNX, If subgraphs, three inputs, int64 `sr`) traced in Node from tensor files given
 * as the CLI gives them (`--input name=file`): speech and silence frames made from espeak-ng speech
 * (test/fixtures/silero/make.ts says how).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareInput } from '../src/cli/commands/trace.ts';
import { compareTraces } from '../src/compare/index.ts';
import { ExrayInputError } from '../src/errors.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { Trace } from '../src/trace/types.ts';
import { VAD, VAD_FIXTURES } from './ort-helpers.ts';

const fx = (f: string): string => join(VAD_FIXTURES, f);
const tmp = mkdtempSync(join(tmpdir(), 'exray-vad-'));

function speechProbability(t: Trace): number {
  const out = t.header.outputs.find((o) => o.name === 'output')!;
  return t.blobs.get(out.blob!.id)![0]!;
}

async function traceVad(inputs: string[], backend: 'cpu' | 'wasm'): Promise<Trace> {
  const prepared = await prepareInput(VAD, { input: inputs });
  return traceInNode({ model: VAD, backend, ...prepared, capture: 'tensors', runs: 2, warmup: 1 });
}

describe('Silero VAD v5 traced from tensor files', () => {
  let speechNode: Trace;

  it('takes three named inputs (.npy, int64 sr) and says "speech" for a speech frame (onnxruntime-node)', async () => {
    speechNode = await traceVad([`input=${fx('speech_input.npy')}`, `state=${fx('speech_state.npy')}`, `sr=${fx('sr.npy')}`], 'cpu');
    const h = speechNode.header;
    expect(speechProbability(speechNode)).toBeGreaterThan(0.9);
    expect(h.input.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['input', 'float32', [1, 576]],
      ['state', 'float32', [2, 1, 128]],
      ['sr', 'int64', []],
    ]);
    const sr = h.input.tensors[2]!;
    expect(sr.blob?.encoding).toBe('int32');
    expect([...speechNode.blobs.get(sr.blob!.id)!]).toEqual([16000]);
    expect(h.input.source).toBeUndefined();
    const stateN = h.outputs.find((o) => o.name === 'stateN')!;
    expect(stateN.shape).toEqual([2, 1, 128]);
  });

  it('records the main graph and the nodes inside the If subgraphs (three levels deep), with their kernels', () => {
    const h = speechNode.header;
    expect(h.model.nodeCount).toBe(348);
    expect(h.nodes).toHaveLength(348);
    expect(h.nodes.filter((n) => !n.name.includes('/')).map((n) => `${n.name}:${n.op}`)).toEqual(['Equal_0:Equal', 'If_0:If', 'Introduce_0_id0:Identity', 'Introduce_0_id1:Identity']);
    expect(h.nodes[0]!.inputs).toEqual(['sr']);
    const ifNode = h.nodes.find((n) => n.name === 'If_0')!;
    expect(ifNode.inputs).toEqual(['Equal_0']);
    expect(h.warnings.some((w) => /cannot be graph outputs/.test(w))).toBe(false);
    expect(ifNode.kernels).toHaveLength(1);
    expect(h.kernels[ifNode.kernels[0]!]!.name).toBe('If');
    expect(h.kernels.filter((k) => k.node === null)).toEqual([]);
    // The If's captured outputs are the model's outputs before the Identity nodes.
    expect(ifNode.outputs.map((o) => o.shape)).toEqual([[1, 1], [2, 1, 128]]);
    // sr = 16000 takes the then branch; the LSTM sits in an If inside an If inside it.
    const lstm = h.nodes.find((n) => n.name === 'If_0/then/If_0_then_branch__Inline_0__/decoder/If_1/then/If_0_then_branch__Inline_0__/decoder/rnn/LSTM')!;
    expect(lstm.op).toBe('LSTM');
    expect(lstm.kernels).toHaveLength(1);
    expect(lstm.outputs.map((o) => o.shape)).toEqual([[1, 1, 1, 128], [1, 1, 128], [1, 1, 128]]);
    expect(lstm.outputs[2]!.stats!.std).toBeGreaterThan(0);
    const other = h.nodes.find((n) => n.name === 'If_0/else/If_0_else_branch__Inline_0__/stft/Conv')!;
    expect(other.outputs[0]!.stats).toBeUndefined();
    expect(other.note).toBe('did not run on this input: If_0 took its then branch');
  });

  it('says "not speech" for silence with a zero state given as JSON (and sr as JSON)', async () => {
    const zeros = join(tmp, 'zero_state.json');
    writeFileSync(zeros, JSON.stringify({ shape: [2, 1, 128], dtype: 'float32', data: new Array(256).fill(0) }));
    const t = await traceVad([`input=${fx('silence_input.npy')}`, `state=${zeros}`, `sr=${fx('sr.json')}`], 'cpu');
    expect(speechProbability(t)).toBeLessThan(0.1);
  });

  it('gives the same answer on onnxruntime-web (wasm), node by node', async () => {
    const wasm = await traceVad([`input=${fx('speech_input.npy')}`, `state=${fx('speech_state.npy')}`, `sr=${fx('sr.npy')}`], 'wasm');
    expect(wasm.header.runtime.name).toBe('onnxruntime-web');
    expect(speechProbability(wasm)).toBeGreaterThan(0.9);
    const c = compareTraces(wasm, speechNode);
    expect(c.inputs.verdict).toBe('identical');
    expect(c.verdict, c.summary).toBe('ok');
  });

  it('rejects a missing input, a wrong rank and an int64 that does not fit, naming the tensor file', async () => {
    const miss = await traceVad([`input=${fx('speech_input.npy')}`, `state=${fx('speech_state.npy')}`], 'cpu').catch((e: unknown) => e);
    expect(miss).toBeInstanceOf(ExrayInputError);
    expect((miss as ExrayInputError).problem).toMatch(/model takes 3 input\(s\) \(input, state, sr\), got 2/);

    const srVector = join(tmp, 'sr_vector.json');
    writeFileSync(srVector, JSON.stringify({ shape: [1], dtype: 'int64', data: [16000] }));
    const rank = await traceVad([`input=${fx('speech_input.npy')}`, `state=${fx('speech_state.npy')}`, `sr=${srVector}`], 'cpu').catch((e: unknown) => e);
    expect(rank).toBeInstanceOf(ExrayInputError);
    expect((rank as ExrayInputError).file).toContain('sr_vector.json');
    expect((rank as ExrayInputError).problem).toBe('input "sr" has shape [1], model input "sr" has rank 0 ([])');

    const big = join(tmp, 'sr_big.json');
    writeFileSync(big, JSON.stringify({ shape: [], dtype: 'int64', data: [2 ** 40] }));
    const overflow = await prepareInput(VAD, { input: [`sr=${big}`] }).catch((e: unknown) => e);
    expect(overflow).toBeInstanceOf(ExrayInputError);
    expect((overflow as ExrayInputError).file).toBe(big);
    expect((overflow as ExrayInputError).problem).toMatch(/does not fit in int32/);
  });
});
