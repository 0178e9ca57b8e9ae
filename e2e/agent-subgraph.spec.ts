/**
 * The agent on a model whose work sits inside ONNX `If` subgraphs, in a real page: examples/vad (an
 * app that is not exray, served from its own origin) runs Silero VAD v5 (main graph: one If on
 * sr == 16000, two more levels inside) on onnxruntime-web wasm in Chromium, frame by frame with the
 * recurrent state carried as vad-web does. With the agent line, each captured frame is a session of
 * `exray serve`; the trace the server received names and values the nodes inside the If bodies as
 * `exray trace` (traceOnnx, onnxruntime-web wasm in Node) does on the same recorded input, and the
 * app's speech probabilities are bit-identical with and without the agent. The app starts each frame
 * as the previous one resolves, so the agent's capture runs must take turns with the app's (one wasm
 * stack for every session: src/agent/ort-run-gate.ts); before they did, every capture here lost its
 * body values ("operation does not support unaligned accesses"). The fallback (a rewrite
 * the provider cannot run: main-graph values only, and the trace says why) is reached in the same page
 * with a built Loop model (test/onnx-build.ts growModel) created through the app's own `ort`.
 *
 * Ports: exray serve on EXRAY_E2E_SUBGRAPH_PORT (default 4331; the next port when the page preview of
 * playwright.config.ts, EXRAY_E2E_PORT, has that one), the app on any free loopback port.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { agentCounters, agentScriptUrl, agentServers } from './support/agent-app.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { sha256Hex } from '../src/trace/sha256.ts';
import type { Trace } from '../src/trace/types.ts';
import type { SessionInfo } from '../src/transport/wire.ts';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { growModel } from '../test/onnx-build.ts';

const PREVIEW_PORT = Number(process.env.EXRAY_E2E_PORT ?? 4317);
const WANTED_PORT = Number(process.env.EXRAY_E2E_SUBGRAPH_PORT ?? 4331);
const PORT = WANTED_PORT === PREVIEW_PORT ? WANTED_PORT + 1 : WANTED_PORT;
const DESKTOP = `http://127.0.0.1:${PORT}/`;
const VAD_FILE = join(process.cwd(), 'models', 'silero-vad-v5', 'model.onnx');
const FRAMES = 4;
const servers = agentServers(PORT, 'exray-agent-subgraph-e2e-');

async function agentScript(): Promise<string> {
  return (await agentScriptUrl(DESKTOP)).url;
}

async function sessions(): Promise<SessionInfo[]> {
  return (await (await fetch(`${DESKTOP}api/sessions`)).json()) as SessionInfo[];
}

async function traceOf(id: string): Promise<Trace> {
  const r = await fetch(`${DESKTOP}api/sessions/${encodeURIComponent(id)}/trace`);
  expect(r.status).toBe(200);
  return decodeTrace(new Uint8Array(await r.arrayBuffer()), `${id}.exray`);
}

/** The app's speech probabilities once its pass is done (JSON: every float32 exactly). */
async function probabilities(page: Page, passes: number): Promise<string> {
  await expect(page.locator('#runs')).toHaveAttribute('data-count', String(passes), { timeout: 60_000 });
  await expect(page.locator('#result')).toHaveAttribute('data-state', 'done');
  return (await page.locator('#result').getAttribute('data-probs'))!;
}

/** The sessions created after `before` (the list is newest first), once `n` of them are done. */
async function newSessions(before: number, n: number): Promise<SessionInfo[]> {
  await expect
    .poll(async () => (await sessions()).slice(0, -before || undefined).map((s) => s.status), { timeout: 60_000 })
    .toEqual(Array.from({ length: n }, () => 'done'));
  return (await sessions()).slice(0, n).reverse();
}

function blob(t: Trace, id: string | undefined): Float32Array | Int32Array {
  const b = id === undefined ? undefined : t.blobs.get(id);
  if (!b) throw new Error(`no blob ${id}`);
  return b as Float32Array | Int32Array;
}

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

test('Silero VAD v5 in a page: its first frames become sessions, the nodes inside the If bodies named and valued as exray trace, the probabilities bit-identical', async ({ browser }) => {
  test.setTimeout(120_000);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(`${servers.app.url}vad/?frames=${FRAMES}`);
  const without = await probabilities(page, 1);
  const probs = JSON.parse(without) as number[];
  expect(probs).toHaveLength(FRAMES);
  // The synthetic signal: a near-silent frame, then the voiced-like tone.
  expect(probs[0]).toBeLessThan(0.3);
  expect(Math.min(...probs.slice(1))).toBeGreaterThan(0.5);

  const before = (await sessions()).length;
  // The first two frames captured (silence with the zero state, the tone's onset with the state carried
  // over), the rest timed only: the app steps frames back to back, faster than captures are built, and
  // with every=1 the agent drops what exceeds its 2 pending captures (which frames: a matter of timing).
  const agentUrl = `${await agentScript()}&first=2&capture=tensors`;
  await page.goto(`${servers.app.url}vad/?frames=${FRAMES}&exray=${encodeURIComponent(agentUrl)}`);
  expect(await probabilities(page, 1)).toBe(without);
  expect(await agentCounters(page)).toMatchObject({ inferences: FRAMES, captured: 2, shipped: 2, dropped: 0, failed: 0 });
  expect(logs.join('\n')).toMatch(/exray agent: attached/);
  expect(logs.join('\n')).not.toMatch(/exray agent: .*(dropped|failed|could not)/);

  const mine = await newSessions(before, 2);
  const sha = await sha256Hex(new Uint8Array(readFileSync(VAD_FILE)));
  for (const s of mine) expect(s).toMatchObject({ deviceId: 'agent', backend: 'wasm', capture: 'tensors', model: { name: 'silero-vad-v5', sha256: sha } });
  const traces = await Promise.all(mine.map((s) => traceOf(s.id)));

  const ortWeb = (await import('onnxruntime-web')) as unknown as OrtModule & { env: { wasm: { numThreads: number } } };
  ortWeb.env.wasm.numThreads = 1;
  const modelBytes = new Uint8Array(readFileSync(VAD_FILE));
  for (const [k, t] of traces.entries()) {
    const h = t.header;
    expect(h.runtime).toMatchObject({ name: 'onnxruntime-web', backend: 'wasm' });
    expect(h.model.sha256).toBe(sha);
    expect(h.input.tensors.map((i) => [i.name, i.dtype, i.shape])).toEqual([
      ['input', 'float32', [1, 576]],
      ['state', 'float32', [2, 1, 128]],
      ['sr', 'int64', [1]], // vad-web's `new Tensor('int64', [16000n])`
    ]);
    // The state the app carried: zeros first, then the previous frame's stateN, exactly.
    const state = blob(t, h.input.tensors[1]!.blob?.id);
    if (k === 0) expect(state.every((v) => v === 0)).toBe(true);
    else expect(sameBits(state, blob(traces[k - 1]!, traces[k - 1]!.header.outputs.find((o) => o.name === 'stateN')!.blob?.id))).toBe(true);
    // The app's own probability for this frame is the trace's output.
    expect(blob(t, h.outputs.find((o) => o.name === 'output')!.blob?.id)[0]).toBe(probs[k]);

    const inside = h.nodes.filter((n) => n.name.startsWith('If_0/'));
    const withValues = h.nodes.filter((n) => n.outputs.length > 0 && n.outputs.every((o) => o.blob));
    expect(withValues.length).toBeGreaterThan(100);
    expect(inside.filter((n) => n.outputs.every((o) => o.blob)).length).toBeGreaterThan(90);
    expect(inside.some((n) => n.op === 'LSTM' && n.outputs.every((o) => o.blob))).toBe(true);
    expect(inside.filter((n) => n.note === 'did not run on this input: If_0 took its then branch').length).toBeGreaterThan(150);
    expect(h.warnings.some((w) => /cannot (load|run) the model rewritten/.test(w))).toBe(false);
    expect(h.warnings.some((w) => w.includes("That session's final outputs equal the app's exactly."))).toBe(true);
    // The agent times the app's inferences, not kernels: no kernel is attributed to any node.
    expect(h.kernels).toEqual([]);
    expect(h.warnings.some((w) => w.startsWith('traced by the exray agent inside the app: no kernel timing'))).toBe(true);

    // `exray trace` of the same model on the same recorded input: same nodes, names, notes; same values
    // to the last bits (the app's session optimises the graph, exray trace's does not).
    const ref = await traceOnnx(
      ortWeb,
      modelBytes,
      h.input.tensors.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype, data: blob(t, i.blob?.id) })),
      { runtime: 'onnxruntime-web', executionProvider: 'wasm', profiler: null, capture: 'tensors', runs: 1, warmup: 0 },
    );
    const r = ref.header;
    expect(h.model.nodeCount).toBe(r.model.nodeCount);
    expect(h.nodes.map((n) => [n.name, n.op, n.note])).toEqual(r.nodes.map((n) => [n.name, n.op, n.note]));
    let worst = 0;
    h.nodes.forEach((n, i) => {
      n.outputs.forEach((o, j) => {
        const ro = r.nodes[i]!.outputs[j]!;
        expect(o.blob === undefined, `${n.name}:${j}`).toBe(ro.blob === undefined);
        if (!o.blob) return;
        expect(o.shape, n.name).toEqual(ro.shape);
        const a = blob(t, o.blob.id);
        const b = blob(ref, ro.blob!.id);
        expect(a.length, n.name).toBe(b.length);
        for (let x = 0; x < a.length; x++) worst = Math.max(worst, Math.abs(a[x]! - b[x]!) / (1 + Math.abs(b[x]!)));
      });
    });
    expect(worst).toBeLessThan(1e-5);
  }
  await ctx.close();
});

test('every=1 on the frame loop: what is captured has its body values, the rest is dropped; a rewrite the page\'s onnxruntime cannot run: the main graph is captured, the app\'s results are untouched, and every trace says why', async ({ browser }) => {
  test.setTimeout(90_000);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const before = (await sessions()).length;
  // Every inference asked for: the frames come faster than captures are built, so the agent keeps what
  // fits in its 2 pending captures and drops the rest. Its capture runs and the app's take turns.
  const agentUrl = `${await agentScript()}&every=1&capture=tensors`;
  await page.goto(`${servers.app.url}vad/?frames=6&exray=${encodeURIComponent(agentUrl)}`);
  await probabilities(page, 1);
  const vad = await agentCounters(page);
  expect(vad).toMatchObject({ inferences: 6, failed: 0 });
  expect(vad['shipped']).toBe(vad['captured']);
  expect(vad['captured']).toBeGreaterThanOrEqual(1);
  expect(vad['captured']! + vad['dropped']!).toBe(6);
  const frames = await newSessions(before, vad['captured']!);
  for (const s of frames) {
    const h = (await traceOf(s.id)).header;
    expect(h.warnings.filter((w) => /cannot (load|run) the model rewritten/.test(w))).toEqual([]);
    expect(h.nodes.filter((n) => n.name.startsWith('If_0/then/') && n.outputs.every((o) => o.blob)).length).toBeGreaterThan(90);
  }

  // Then, with nothing pending, the app's page creates a second model through the same `ort`:
  // A Loop whose body value doubles in length each iteration: its per-iteration values cannot be stacked.
  const outs = await page.evaluate(async (bytes) => {
    const ort = (globalThis as unknown as { ort: typeof import('onnxruntime-web') }).ort;
    const session = await ort.InferenceSession.create(Uint8Array.from(bytes));
    const got: number[][] = [];
    for (let i = 0; i < 2; i++) got.push([...((await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) }))['y']!.data as Float32Array)]);
    return got;
  }, [...growModel()]);
  expect(outs[0]).toEqual([-1, -2, -1, -2, -1, -2, -1, -2, -1, -2, -1, -2, -1, -2, -1, -2]);
  expect(outs[1]).toEqual(outs[0]);
  expect(await agentCounters(page)).toMatchObject({ inferences: 8, captured: vad['captured']! + 2, shipped: vad['shipped']! + 2, dropped: vad['dropped'], failed: 0 });
  const mine = (await newSessions(before, frames.length + 2)).slice(frames.length); // the VAD frames first
  for (const s of mine) {
    const h = (await traceOf(s.id)).header;
    expect(h.nodes.map((n) => n.name)).toEqual(['loop/body/grow', 'loop/body/keep_going', 'loop', 'negate']);
    expect(h.warnings.filter((w) => /^onnxruntime-web \(wasm\) cannot run the model rewritten to expose values inside subgraphs/.test(w))).toHaveLength(1);
    expect(h.nodes[0]!.note).toMatch(/^not captured: the runtime could not load or run the model rewritten/);
    expect(h.nodes[0]!.outputs[0]!.blob).toBeUndefined();
    expect(h.nodes.find((n) => n.name === 'negate')!.outputs[0]!.blob).toBeDefined();
  }
  await ctx.close();
});
