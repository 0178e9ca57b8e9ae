/**
 * The agent (src/agent/ort.ts) on ONNX models with control flow, in a Node app on onnxruntime-node:
 * nodes inside If bodies named and valued as `exray trace` does (a built model whose names would
 * clash, test/onnx-build.ts), and a Loop whose body values cannot be stacked: the capture falls back to
 * the main graph for that session, and every later trace of it says why; Silero VAD legacy (248 of 250
 * nodes inside one If) on onnxruntime-web (wasm) in Node. Silero VAD v5 (three levels of If) on
 * onnxruntime-node is in test/agent-ort.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { attach } from '../src/agent/attach.ts';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { decodeTrace } from '../src/trace/file.ts';
import type { Trace } from '../src/trace/types.ts';
import { clashModel, growModel } from './onnx-build.ts';
import { SILERO_LEGACY } from './silero-legacy.ts';

const VAD_V5 = join('models', 'silero-vad-v5', 'model.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'exray-agent-ort-sub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function traces(files: readonly string[]): Trace[] {
  return files.map((f) => decodeTrace(new Uint8Array(readFileSync(f)), f));
}

function values(t: Trace, node: string): number[] {
  const n = t.header.nodes.find((m) => m.name === node);
  if (!n) throw new Error(`no node ${node}`);
  const b = n.outputs[0]!.blob;
  return b ? [...t.blobs.get(b.id)!] : [];
}

describe('agent: nodes inside ONNX control flow', () => {
  it('a built If model whose names would clash: the same nodes, names, notes and values as exray trace, on both branches', async () => {
    const bytes = clashModel();
    const agent = await attach({ ort, out: join(tmp, 'clash'), capture: 'tensors', sample: { first: 1, every: 1 } });
    const session = await ort.InferenceSession.create(bytes);
    const x = (): ort.Tensor => new ort.Tensor('float32', Float32Array.from([1, 2]), [2]);
    const thenOut = await session.run({ x: x(), c: new ort.Tensor('bool', Uint8Array.from([1]), []) });
    const elseOut = await session.run({ x: x(), c: new ort.Tensor('bool', Uint8Array.from([0]), []) });
    await agent.idle();
    await agent.detach();
    await session.release();
    expect([...(thenOut['z']!.data as Float32Array)]).toEqual([28, 32]);
    expect([...(elseOut['z']!.data as Float32Array)]).toEqual([0, 2]);
    expect(agent.counters).toMatchObject({ captured: 2, shipped: 2, failed: 0 });
    const [onThen, onElse] = traces(agent.shipped);
    for (const [t, c] of [[onThen!, 1], [onElse!, 0]] as const) {
      const ref = await traceOnnx(
        ort as unknown as OrtModule,
        bytes,
        [
          { name: 'x', shape: [2], dtype: 'float32', data: Float32Array.from([1, 2]) },
          { name: 'c', shape: [], dtype: 'bool', data: Int32Array.from([c]) },
        ],
        { runtime: 'onnxruntime-node', executionProvider: 'cpu', profiler: null, capture: 'tensors', runs: 1, warmup: 0 },
      );
      expect(t.header.model.nodeCount).toBe(8);
      expect(t.header.nodes.map((n) => [n.name, n.op, n.note])).toEqual(ref.header.nodes.map((n) => [n.name, n.op, n.note]));
      for (const n of ref.header.nodes) expect(values(t, n.name), n.name).toEqual(values(ref, n.name));
    }
    // The main graph's `pick/then/plus` and the branch's (`pick/then/plus_`) each keep their own values.
    expect(values(onThen!, 'pick/then/plus')).toEqual([28, 32]);
    expect(values(onThen!, 'pick/then/plus_')).toEqual([2, 3]);
    expect(values(onThen!, 'pick/then/inner/then/x_')).toEqual([4, 6]);
    expect(values(onElse!, 'pick/else/minus')).toEqual([0, 1]);
    expect(onElse!.header.nodes.find((n) => n.name === 'pick/then/plus_')!.note).toBe('did not run on this input: pick took its else branch');
  });

  it('a Loop body value that changes shape: the run with body values fails, the main graph is captured, and every trace of the session says why', async () => {
    const agent = await attach({ ort, out: join(tmp, 'grow'), capture: 'tensors', sample: { first: 1, every: 1 } });
    const session = await ort.InferenceSession.create(growModel());
    const outs: number[][] = [];
    for (let i = 0; i < 2; i++) outs.push([...((await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) }))['y']!.data as Float32Array)]);
    await agent.idle();
    await agent.detach();
    await session.release();
    expect(outs[0]).toEqual([-1, -2, -1, -2, -1, -2, -1, -2, -1, -2, -1, -2, -1, -2, -1, -2]);
    expect(outs[1]).toEqual(outs[0]);
    expect(agent.counters).toMatchObject({ captured: 2, shipped: 2, failed: 0 });
    for (const t of traces(agent.shipped)) {
      const h = t.header;
      expect(h.nodes.map((n) => n.name)).toEqual(['loop/body/grow', 'loop/body/keep_going', 'loop', 'negate']);
      expect(h.warnings.filter((w) => /cannot run the model rewritten to expose values inside subgraphs/.test(w))).toHaveLength(1);
      expect(values(t, 'negate')).toEqual(outs[0]);
      expect(values(t, 'loop')).toEqual(outs[0]!.map((v) => -v));
      expect(h.nodes[0]!.note).toMatch(/^not captured: the runtime could not load or run the model rewritten/);
      expect(h.nodes[0]!.outputs[0]!.blob).toBeUndefined();
    }
  });

  it('Silero VAD legacy on onnxruntime-web (wasm): the 248 body nodes, the taken branch with the values exray trace records', async () => {
    const ortWeb = (await import('onnxruntime-web')) as unknown as typeof ort;
    ortWeb.env.wasm.numThreads = 1;
    const bytes = new Uint8Array(readFileSync(SILERO_LEGACY));
    const frame = Float32Array.from({ length: 512 }, (_, i) => 0.2 * Math.sin(i / 5) * Math.sin(i / 61));
    const agent = await attach({ ort: ortWeb, out: join(tmp, 'legacy'), capture: 'tensors' });
    const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const zeros = (): ort.Tensor => new ortWeb.Tensor('float32', new Float32Array(128), [2, 1, 64]);
    await session.run({ input: new ortWeb.Tensor('float32', frame.slice(), [1, 512]), sr: new ortWeb.Tensor('int64', BigInt64Array.from([16000n]), []), h: zeros(), c: zeros() });
    await agent.idle();
    await agent.detach();
    await session.release();
    expect(agent.counters).toMatchObject({ captured: 1, shipped: 1, failed: 0 });
    const [t] = traces(agent.shipped);
    const ref = await traceOnnx(
      ortWeb as unknown as OrtModule,
      bytes,
      [
        { name: 'input', shape: [1, 512], dtype: 'float32', data: frame },
        { name: 'sr', shape: [], dtype: 'int64', data: Int32Array.from([16000]) },
        { name: 'h', shape: [2, 1, 64], dtype: 'float32', data: new Float32Array(128) },
        { name: 'c', shape: [2, 1, 64], dtype: 'float32', data: new Float32Array(128) },
      ],
      { runtime: 'onnxruntime-web', executionProvider: 'wasm', profiler: null, capture: 'tensors', runs: 1, warmup: 0 },
    );
    const h = t!.header;
    expect(h.runtime).toMatchObject({ name: 'onnxruntime-web', backend: 'wasm' });
    expect(h.model.nodeCount).toBe(250);
    expect(h.nodes.map((n) => [n.name, n.note])).toEqual(ref.header.nodes.map((n) => [n.name, n.note]));
    const taken = h.nodes.filter((n) => n.name.startsWith('If_25/then/') && n.outputs.every((o) => o.blob));
    expect(taken.length).toBeGreaterThan(100);
    let worst = 0;
    for (const n of taken) {
      const r = ref.header.nodes.find((m) => m.name === n.name)!;
      n.outputs.forEach((o, k) => {
        const a = t!.blobs.get(o.blob!.id)!;
        const b = ref.blobs.get(r.outputs[k]!.blob!.id)!;
        expect(a.length, n.name).toBe(b.length);
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!) / (1 + Math.abs(b[j]!)));
      });
    }
    // The app's session options keep onnxruntime's graph optimisations; exray trace's capture turns them off.
    expect(worst).toBeLessThan(1e-5);
    expect(h.nodes.find((n) => n.name === 'If_25/then/If_177/else/LSTM_407')!.note).toBe('did not run on this input: If_25/then/If_177 took its then branch');
  }, 60_000);

  it('onnxruntime-web: exray\'s capture run never overlaps an app run (one wasm stack for all sessions), so an app stepping Silero v5 back to back keeps its results and the capture its body values', async () => {
    // onnxruntime-web's run awaits between taking wasm stack space and giving it back: two runs in
    // flight at once, even of two sessions, corrupt each other ("memory access out of bounds",
    // "operation does not support unaligned accesses"). This app awaits each run and starts the next
    // at once, as vad-web does, yielding to the event loop every 8 frames (audio arriving), for as
    // long as the agent takes to build and ship its capture.
    const ortWeb = (await import('onnxruntime-web')) as unknown as typeof ort;
    ortWeb.env.wasm.numThreads = 1;
    const proto = (ortWeb.InferenceSession as unknown as { prototype: { run: (...a: unknown[]) => Promise<unknown> } }).prototype;
    const unwatched = proto.run;
    let inFlight = 0;
    let most = 0;
    proto.run = function (this: unknown, ...a: unknown[]) {
      most = Math.max(most, ++inFlight);
      return unwatched.apply(this, a).finally(() => inFlight--);
    };
    try {
      const bytes = new Uint8Array(readFileSync(VAD_V5));
      const frame = (i: number): Float32Array => Float32Array.from({ length: 576 }, (_, j) => 0.3 * Math.sin((i * 512 + j) / 9) * Math.sin(j / 37));
      const listen = async (s: ort.InferenceSession, frames: number, done: () => boolean): Promise<number[]> => {
        const sr = new ortWeb.Tensor('int64', BigInt64Array.from([16000n]), [1]);
        let state: ort.Tensor = new ortWeb.Tensor('float32', new Float32Array(256), [2, 1, 128]);
        const probs: number[] = [];
        for (let i = 0; i < frames && !done(); i++) {
          if (i % 8 === 7) await new Promise((r) => setImmediate(r));
          const out = await s.run({ input: new ortWeb.Tensor('float32', frame(i), [1, 576]), state, sr });
          state = out['stateN']!;
          probs.push((out['output']!.data as Float32Array)[0]!);
        }
        return probs;
      };
      // The first inference, then every 40th: from the second capture on, the capture session exists
      // and its run starts within microtasks of the app's run resolving, as the app starts its next one.
      const agent = await attach({ ort: ortWeb, out: join(tmp, 'v5-web'), capture: 'tensors', sample: { first: 1, every: 40 } });
      const session = await ortWeb.InferenceSession.create(bytes);
      const got = await listen(session, 20_000, () => agent.counters.shipped + agent.counters.failed >= 3);
      await agent.idle();
      await agent.detach();
      await session.release();
      const plain = await ortWeb.InferenceSession.create(bytes);
      const expected = await listen(plain, got.length, () => false);
      await plain.release();
      expect(got.length).toBeLessThan(20_000);
      expect(got).toEqual(expected);
      expect(most).toBe(1);
      expect(agent.counters).toMatchObject({ shipped: 3, failed: 0 });
      for (const t of traces(agent.shipped)) {
        const h = t.header;
        expect(h.warnings.filter((w) => /cannot (load|run)/.test(w))).toEqual([]);
        expect(h.nodes.filter((n) => n.name.startsWith('If_0/then/') && n.outputs.every((o) => o.blob)).length).toBeGreaterThan(90);
        expect(values(t, 'Equal_0')).toEqual([1]);
      }
    } finally {
      proto.run = unwatched;
    }
  }, 120_000);
});
