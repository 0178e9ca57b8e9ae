/**
 * The agent's onnxruntime side (src/agent/ort.ts) inside a Node app using onnxruntime-node, through the
 * real `attach()` writing .exray files to a folder: real models (PP-OCR direction classifier given as
 * bytes; Silero VAD v5 given as a path: three inputs, int64 `sr`, If subgraphs), no mocks.
 *
 * The app's results with the agent attached are bit-identical to those without it; sampling captures
 * exactly the runs it should and times the others; captured traces hold every node with statistics and
 * the app's own inputs and outputs; detaching puts the original methods back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { attach } from '../src/agent/attach.ts';
import { isOrtApi } from '../src/agent/ort.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { sha256Hex } from '../src/trace/sha256.ts';
import { decodeOnnx, describeOnnx } from '../src/onnx/model.ts';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import type { BlobData, Trace } from '../src/trace/types.ts';

const MODELS = join(import.meta.dirname, '..', 'models');
const CLS_FILE = join(MODELS, 'ppocr-mobile-v2-cls', 'model.onnx');
const VAD_FILE = join(MODELS, 'silero-vad-v5', 'model.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'exray-agent-ort-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Session = ort.InferenceSession;
type Results = ort.InferenceSession.ReturnType;

function fileBytes(f: string): Uint8Array {
  const b = readFileSync(f);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Deterministic pseudo-random floats in [-1, 1). */
function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.constructor === b.constructor && bytesOf(a).equals(bytesOf(b));
}

/** Every output's values, copied (bit-exact comparisons later). */
function copyResults(r: Results): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(r)) out[k] = (t.data as Float32Array).slice();
  return out;
}

function sameResults(a: Record<string, Float32Array>, b: Record<string, Float32Array>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.join() === kb.join() && ka.every((k) => sameBits(a[k]!, b[k]!));
}

function blob(t: Trace, id: string | undefined): BlobData {
  const b = id ? t.blobs.get(id) : undefined;
  if (!b) throw new Error(`no blob ${id}`);
  return b;
}

function readTraces(files: readonly string[]): Trace[] {
  return files.map((f) => decodeTrace(fileBytes(f), f));
}

const clsInput = (seed: number): ort.Tensor => new ort.Tensor('float32', noise(1 * 3 * 48 * 192, seed), [1, 3, 48, 192]);

describe('agent: onnxruntime-node inside a Node app', () => {
  it('recognises an onnxruntime namespace', () => {
    expect(isOrtApi(ort)).toBe(true);
    expect(isOrtApi({ InferenceSession: {} })).toBe(false);
    expect(isOrtApi(null)).toBe(false);
  });

  it('PP-OCR cls given as bytes: bit-identical results, runs 1, 4 and 7 of 7 captured, every node with statistics, originals back after detach', async () => {
    const Session = ort.InferenceSession as unknown as { create: unknown; prototype: { run: unknown; release: unknown } };
    const originals = { create: Session.create, run: Session.prototype.run, release: Session.prototype.release };
    const modelBytes = fileBytes(CLS_FILE);
    const graph = describeOnnx(decodeOnnx(modelBytes, CLS_FILE));
    const inputName = graph.inputs[0]!.name;

    // The app without the agent: seven inferences on seven inputs.
    const plain = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'] });
    const expected: Record<string, Float32Array>[] = [];
    for (let i = 0; i < 7; i++) expected.push(copyResults(await plain.run({ [inputName]: clsInput(i + 1) })));
    await plain.release();

    const out = join(tmp, 'cls');
    const logged: string[] = [];
    // Room for all three sampled captures: with the default of 2 pending, whether run 7 comes while
    // runs 1 and 4 are still being built depends on the machine's load (a CI-style run dropped it).
    const agent = await attach({ ort, out, sample: { first: 1, every: 3 }, maxPendingCaptures: 3, log: (level, m) => logged.push(`${level}: ${m}`) });
    expect(Session.create).not.toBe(originals.create);
    expect(Session.prototype.run).not.toBe(originals.run);

    // The same app with the agent attached.
    const session: Session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'] });
    expect(session).toBeInstanceOf(ort.InferenceSession);
    const got: Record<string, Float32Array>[] = [];
    const fed: Float32Array[] = [];
    for (let i = 0; i < 7; i++) {
      const input = clsInput(i + 1);
      fed.push((input.data as Float32Array).slice());
      got.push(copyResults(await session.run({ [inputName]: input })));
      expect(sameBits(input.data as Float32Array, fed[i]!)).toBe(true); // the app's input untouched
    }
    await agent.idle();
    for (let i = 0; i < 7; i++) expect(sameResults(got[i]!, expected[i]!), `run ${i + 1}`).toBe(true);
    expect(agent.counters).toEqual({ inferences: 7, captured: 3, shipped: 3, dropped: 0, failed: 0 });
    expect(agent.shipped).toHaveLength(3);

    const traces = readTraces(agent.shipped);
    const sha = await sha256Hex(modelBytes);
    // Which runs were captured: the trace's input is exactly the app's feed of that run.
    const capturedRuns = traces.map((t) => {
      const v = blob(t, t.header.input.tensors[0]!.blob?.id);
      return fed.findIndex((f) => sameBits(f, v)) + 1;
    });
    expect(capturedRuns).toEqual([1, 4, 7]);
    traces.forEach((t, k) => {
      const h = t.header;
      const run = capturedRuns[k]! - 1;
      expect(h.capture).toBe('stats');
      expect(h.model).toMatchObject({ format: 'onnx', sha256: sha, nodeCount: graph.nodes.length, inputs: graph.inputs, outputs: graph.outputs });
      expect(h.runtime).toEqual({ name: 'onnxruntime-node', version: ort.env.versions.node, backend: 'cpu' });
      expect(h.environment.flags['executionProvider']).toBe('cpu');
      // Every node of the graph, in order, every output with statistics (no values kept in `stats`).
      expect(h.nodes.map((n) => n.name)).toEqual(graph.nodes.map((n) => n.name));
      for (const n of h.nodes) {
        expect(n.outputs.length, n.name).toBeGreaterThan(0);
        for (const o of n.outputs) {
          expect(o.stats, n.name).toBeDefined();
          expect(o.stats!.count).toBe(o.shape.reduce((a, b) => a * b, 1));
          expect(o.blob).toBeUndefined();
        }
      }
      // The app's own input and outputs, with their values, exactly.
      expect(h.input.tensors).toHaveLength(1);
      expect(h.input.tensors[0]).toMatchObject({ name: inputName, shape: [1, 3, 48, 192], dtype: 'float32' });
      expect(h.outputs.map((o) => o.name)).toEqual(Object.keys(expected[run]!));
      for (const o of h.outputs) expect(sameBits(blob(t, o.blob?.id), expected[run]![o.name]!), o.name).toBe(true);
      // The last node's values (capture session) against the app's own output.
      const last = h.nodes[h.nodes.length - 1]!;
      const appOut = h.outputs.find((o) => graph.nodes[graph.nodes.length - 1]!.outputs.includes(o.name))!;
      expect(last.outputs[0]!.stats!.mean).toBeCloseTo(appOut.stats!.mean!, 5);
      expect(h.warnings.some((w) => w.startsWith('node values come from a second onnxruntime session'))).toBe(true);
      expect(h.warnings.some((w) => /^model identity: the \.onnx bytes the app gave InferenceSession\.create/.test(w))).toBe(true);
    });
    // Timing: the timing-only runs before each capture (2, 3 before run 4; 2, 3, 5, 6 before run 7).
    expect(traces[0]!.header.timing).toBeUndefined();
    expect(traces[1]!.header.timing?.runMs).toHaveLength(2);
    expect(traces[2]!.header.timing?.runMs).toHaveLength(4);
    expect(logged.filter((l) => l.startsWith('warn'))).toEqual([]);

    await agent.detach();
    expect(Session.create).toBe(originals.create);
    expect(Session.prototype.run).toBe(originals.run);
    expect(Session.prototype.release).toBe(originals.release);
    // After detach the app runs on, untouched and uncounted.
    expect(sameResults(copyResults(await session.run({ [inputName]: clsInput(1) })), expected[0]!)).toBe(true);
    expect(agent.counters.inferences).toBe(7);
    await session.release();
  });

  it('Silero VAD given as a path: three inputs (int64 sr), nodes inside the If bodies as `exray trace` records them, every value kept in `tensors` mode, bit-identical results', async () => {
    const feeds = (): Record<string, ort.Tensor> => ({
      input: new ort.Tensor('float32', noise(576, 7).map((v) => v * 0.1), [1, 576]),
      state: new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    const plain = await ort.InferenceSession.create(VAD_FILE);
    const expected = copyResults(await plain.run(feeds()));
    await plain.release();

    const out = join(tmp, 'vad');
    const agent = await attach({ ort, out, capture: 'tensors' });
    const session = await ort.InferenceSession.create(VAD_FILE);
    const got = copyResults(await session.run(feeds()));
    await agent.idle();
    await agent.detach();
    expect(sameResults(got, expected)).toBe(true);
    expect(agent.counters).toMatchObject({ inferences: 1, captured: 1, shipped: 1, failed: 0 });

    const [t] = readTraces(agent.shipped);
    const h = t!.header;
    expect(h.capture).toBe('tensors');
    expect(h.model.name).toBe('silero-vad-v5');
    expect(h.model.sha256).toBe(await sha256Hex(fileBytes(VAD_FILE)));
    expect(h.warnings).toContain(`model identity: the .onnx file read again from ${VAD_FILE}, where InferenceSession.create loaded it`);
    expect(h.input.tensors.map((i) => [i.name, i.dtype, i.shape, i.blob?.encoding])).toEqual([
      ['input', 'float32', [1, 576], 'float32'],
      ['state', 'float32', [2, 1, 128], 'float32'],
      ['sr', 'int64', [], 'int32'],
    ]);
    expect([...blob(t!, h.input.tensors[2]!.blob?.id)]).toEqual([16000]);
    expect(sameBits(blob(t!, h.input.tensors[0]!.blob?.id), feeds()['input']!.data as Float32Array)).toBe(true);
    // Every node, those inside the If bodies too, named and ordered as `exray trace` names them; the
    // taken branches with values, the others with a note; the values those of `exray trace` on this input.
    const reference = await traceOnnx(ort as unknown as OrtModule, fileBytes(VAD_FILE), [
      { name: 'input', shape: [1, 576], dtype: 'float32', data: feeds()['input']!.data as Float32Array },
      { name: 'state', shape: [2, 1, 128], dtype: 'float32', data: new Float32Array(2 * 128) },
      { name: 'sr', shape: [], dtype: 'int64', data: Int32Array.from([16000]) },
    ], { runtime: 'onnxruntime-node', executionProvider: 'cpu', profiler: null, capture: 'tensors', runs: 1, warmup: 0 });
    const r = reference.header;
    expect(h.model.nodeCount).toBe(r.model.nodeCount);
    expect(h.nodes.map((n) => `${n.name}:${n.op}`)).toEqual(r.nodes.map((n) => `${n.name}:${n.op}`));
    expect(h.nodes.map((n) => n.inputs)).toEqual(r.nodes.map((n) => n.inputs));
    expect(h.nodes.map((n) => n.note)).toEqual(r.nodes.map((n) => n.note));
    const inside = h.nodes.filter((n) => n.name.startsWith('If_0/'));
    expect(inside.length).toBe(h.nodes.length - 4);
    const withValues = inside.filter((n) => n.outputs.every((o) => o.blob));
    expect(withValues.length).toBeGreaterThan(90);
    expect(withValues.some((n) => n.op === 'LSTM')).toBe(true);
    expect(inside.filter((n) => n.note === 'did not run on this input: If_0 took its then branch').length).toBeGreaterThan(150);
    let worst = 0;
    h.nodes.forEach((n, i) => {
      n.outputs.forEach((o, k) => {
        const ref = r.nodes[i]!.outputs[k]!;
        expect(o.blob === undefined, `${n.name} ${k}`).toBe(ref.blob === undefined);
        if (!o.blob) return;
        expect(o.shape, n.name).toEqual(ref.shape);
        const a = blob(t!, o.blob.id);
        const b = reference.blobs.get(ref.blob!.id)!;
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!) / (1 + Math.abs(b[j]!)));
      });
    });
    // The app's options optimise the capture session's graph; exray trace's does not: last bits only.
    expect(worst).toBeLessThan(1e-5);
    expect([...blob(t!, h.nodes[0]!.outputs[0]!.blob?.id)]).toEqual([1]); // sr == 16000
    expect(h.warnings.some((w) => /cannot be graph outputs|not exposed/.test(w))).toBe(false);
    for (const o of h.outputs) expect(sameBits(blob(t!, o.blob?.id), expected[o.name]!), o.name).toBe(true);
    expect(h.warnings.some((w) => w.includes("That session's final outputs equal the app's exactly."))).toBe(true);
  });

  it('a session created before attach: captured with its inputs and outputs only, and says why', async () => {
    const early = await ort.InferenceSession.create(CLS_FILE);
    const inputName = early.inputNames[0]!;
    const agent = await attach({ ort, out: join(tmp, 'early') });
    const got = copyResults(await early.run({ [inputName]: clsInput(3) }));
    await agent.idle();
    await agent.detach();
    await early.release();
    expect(agent.counters).toMatchObject({ captured: 1, shipped: 1, failed: 0 });
    const [t] = readTraces(agent.shipped);
    const h = t!.header;
    expect(h.nodes).toEqual([]);
    expect(h.model.sha256).toBe('');
    expect(h.warnings.some((w) => w.startsWith('this session was created before the exray agent attached'))).toBe(true);
    expect(h.input.tensors.map((i) => i.name)).toEqual([inputName]);
    for (const o of h.outputs) expect(sameBits(blob(t!, o.blob?.id), got[o.name]!)).toBe(true);
  });

  it('onnxruntime-web (wasm) in Node, the model given as (ArrayBuffer, byteOffset, byteLength): bit-identical, traced, restored', async () => {
    const ortWeb = (await import('onnxruntime-web')) as unknown as typeof ort;
    ortWeb.env.wasm.numThreads = 1;
    const Session = ortWeb.InferenceSession as unknown as { create: unknown; prototype: { run: unknown } };
    const originals = { create: Session.create, run: Session.prototype.run };
    const modelBytes = fileBytes(CLS_FILE);
    // The model in the middle of a larger buffer, as the four-argument overload of create takes it.
    const padded = new Uint8Array(modelBytes.byteLength + 96);
    padded.set(modelBytes, 64);
    const input = (): ort.Tensor => new ortWeb.Tensor('float32', noise(3 * 48 * 192, 11), [1, 3, 48, 192]);
    const plain = await ortWeb.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
    const inputName = plain.inputNames[0]!;
    const expected = copyResults(await plain.run({ [inputName]: input() }));
    await plain.release();

    const agent = await attach({ ort: ortWeb, out: join(tmp, 'web') });
    const session = await ortWeb.InferenceSession.create(padded.buffer, 64, modelBytes.byteLength, { executionProviders: ['wasm'] });
    const got = copyResults(await session.run({ [inputName]: input() }));
    await agent.idle();
    await agent.detach();
    await session.release();
    expect(sameResults(got, expected)).toBe(true);
    expect(Session.create).toBe(originals.create);
    expect(Session.prototype.run).toBe(originals.run);
    expect(agent.counters).toMatchObject({ captured: 1, shipped: 1, failed: 0 });
    const [t] = readTraces(agent.shipped);
    const h = t!.header;
    expect(h.runtime).toMatchObject({ name: 'onnxruntime-web', backend: 'wasm' });
    expect(h.model.sha256).toBe(await sha256Hex(modelBytes));
    expect(h.nodes.length).toBe(h.model.nodeCount);
    expect(h.nodes.every((n) => n.outputs.every((o) => o.stats !== undefined))).toBe(true);
    for (const o of h.outputs) expect(sameBits(blob(t!, o.blob?.id), expected[o.name]!)).toBe(true);
  });

  it('detach right after a captured run: the pending capture is still built and written', async () => {
    const agent = await attach({ ort, out: join(tmp, 'detach') });
    const session = await ort.InferenceSession.create(CLS_FILE);
    await session.run({ [session.inputNames[0]!]: clsInput(5) });
    await agent.detach();
    await session.release();
    expect(agent.counters).toMatchObject({ captured: 1, shipped: 1, failed: 0 });
    expect(readTraces(agent.shipped)[0]!.header.nodes.length).toBeGreaterThan(200);
  });

  it("the app's own errors reach it unchanged", async () => {
    const agent = await attach({ ort, out: join(tmp, 'errors') });
    await expect(ort.InferenceSession.create(join(tmp, 'no-such-model.onnx'))).rejects.toThrow();
    const session = await ort.InferenceSession.create(CLS_FILE);
    await expect(session.run({ nope: clsInput(1) })).rejects.toThrow(/input '.*' is missing in 'feeds'/);
    await agent.idle();
    await agent.detach();
    await session.release();
    expect(agent.counters.failed).toBe(0);
  });
});
