/**
 * Nodes inside ONNX control flow: Silero VAD legacy (@ricky0123/vad-web's silero_vad_legacy.onnx, 248
 * of its 250 nodes inside one `If`, nested Ifs holding the LSTMs), traced on onnxruntime-web (wasm)
 * and onnxruntime-node (cpu) in Node on a speech frame from test/fixtures/silero (the last 512 samples
 * of the v5 frame, zero LSTM state).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareInput } from '../src/cli/commands/trace.ts';
import { compareTraces } from '../src/compare/index.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { NodeRecord, Trace } from '../src/trace/types.ts';
import { legacyInputs, SILERO_LEGACY } from './silero-legacy.ts';

async function trace(backend: 'cpu' | 'wasm', inputs: string[]): Promise<Trace> {
  const prepared = await prepareInput(SILERO_LEGACY, { input: inputs });
  return traceInNode({ model: SILERO_LEGACY, backend, ...prepared, capture: 'tensors', runs: 1, warmup: 0 });
}

const node = (t: Trace, name: string): NodeRecord => {
  const n = t.header.nodes.find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name} in ${t.header.nodes.slice(0, 5).map((x) => x.name).join(', ')}, …`);
  return n;
};

describe('Silero VAD legacy: nodes inside If bodies', () => {
  let cpu: Trace;
  let wasm: Trace;
  beforeAll(async () => {
    const inputs = legacyInputs(mkdtempSync(join(tmpdir(), 'exray-legacy-')));
    cpu = await trace('cpu', inputs);
    wasm = await trace('wasm', inputs);
  }, 120_000);

  it('records every body node with a qualified name and its op, the taken branch with values', () => {
    const h = cpu.header;
    expect(h.nodes).toHaveLength(250);
    expect(h.model.nodeCount).toBe(250);
    const inside = h.nodes.filter((n) => n.name.startsWith('If_25/'));
    expect(inside).toHaveLength(248);
    // sr = 16000 takes the then branch: its nodes have values, the else branch's say why they have none.
    const then = inside.filter((n) => n.name.startsWith('If_25/then/'));
    const taken = then.filter((n) => n.outputs.every((o) => o.stats && o.blob));
    const ops = new Set(taken.map((n) => n.op));
    for (const op of ['Conv', 'LSTM', 'Relu', 'Sigmoid', 'If']) expect(ops, op).toContain(op);
    const conv = node(cpu, 'If_25/then/Conv_73');
    expect(conv.op).toBe('Conv');
    expect(conv.outputs[0]!.shape).toEqual([1, 258, 8]);
    expect(conv.outputs[0]!.stats!.std).toBeGreaterThan(0);
    // One level deeper: the LSTM inside the If inside the If; the nested If took its then branch.
    const lstm = node(cpu, 'If_25/then/If_177/then/LSTM_245');
    expect(lstm.op).toBe('LSTM');
    expect(lstm.outputs.map((o) => o.shape)).toEqual([[1, 1, 1, 64], [1, 1, 64], [1, 1, 64]]);
    expect(lstm.outputs[1]!.stats!.std).toBeGreaterThan(0);
    expect(lstm.inputs.length).toBeGreaterThan(0);
    const notTaken = node(cpu, 'If_25/then/If_177/else/LSTM_407');
    expect(notTaken.outputs.every((o) => !o.stats)).toBe(true);
    expect(notTaken.note).toBe('did not run on this input: If_25/then/If_177 took its then branch');
    const elseNode = inside.find((n) => n.name.startsWith('If_25/else/') && n.op === 'Conv')!;
    expect(elseNode.note).toBe('did not run on this input: If_25 took its then branch');
    // Body nodes come before the If that runs them; the If's outputs are the model's.
    expect(h.nodes.at(-1)!.name).toBe('If_25');
    expect(taken.length).toBeGreaterThan(100);
    expect(h.warnings.some((w) => /cannot be graph outputs/.test(w))).toBe(false);
    // Every stand-in's element type was inferred (int64 shapes, bool conditions, float activations): no cast.
    expect(h.nodes.filter((n) => n.note?.includes('cast to float32'))).toEqual([]);
  });

  it('puts kernel times on the nodes inside the body; the If keeps its own time only', () => {
    for (const t of [cpu, wasm]) {
      const h = t.header;
      const ifNode = node(t, 'If_25');
      expect(ifNode.kernels).toHaveLength(1);
      const ifMs = h.kernels[ifNode.kernels[0]!]!.ms!;
      const inBody = h.kernels.filter((k) => k.node?.startsWith('If_25/'));
      const bodyMs = inBody.reduce((a, k) => a + k.ms!, 0);
      expect(inBody.length, h.runtime.name).toBeGreaterThan(60);
      // ORT timed the If around its body (inclusive); the trace keeps the If's own part, and the kernels
      // inside add up to what was subtracted (the warning gives both numbers, rounded to µs).
      const said = h.warnings.map((w) => /If_25 (\d+\.\d+) ms − (\d+\.\d+) ms/.exec(w)).find((m) => m);
      expect(said, h.warnings.join('\n')).toBeTruthy();
      const [inclusive, inside] = [Number(said![1]), Number(said![2])];
      expect(ifMs).toBeCloseTo(inclusive - inside, 2);
      expect(bodyMs).toBeCloseTo(inside, 2);
      expect(ifMs).toBeLessThan(inclusive);
      expect(node(t, 'If_25/then/Conv_73').kernels.length).toBeGreaterThan(0);
      expect(node(t, 'If_25/then/If_177/then/LSTM_245').kernels.length).toBe(1);
      expect(h.kernels.filter((k) => k.node === null)).toEqual([]);
      expect(h.warnings.some((w) => /recorded with their own time/.test(w))).toBe(true);
    }
  });

  it('compares wasm against the cpu reference node by node, body nodes included', () => {
    const c = compareTraces(wasm, cpu);
    expect(c.verdict, c.summary).toBe('ok');
    const compared = c.nodes.filter((n) => n.name.startsWith('If_25/then/') && n.metrics);
    expect(compared.length).toBeGreaterThan(100);
    expect(compared.some((n) => n.name === 'If_25/then/If_177/then/LSTM_245')).toBe(true);
  });
});
