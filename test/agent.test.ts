/**
 * The agent in a Node app (TF.js cpu, the real nsfw MobileNetV2 models): attached to the app's own
 * `tf`, it streams sampled inferences to a real `exray serve` over loopback, which identifies the model
 * by hash, runs the reference and compares; the app's results stay bit-identical; detaching restores
 * every method; with the server down the app runs on; a folder sink writes .exray files.
 */
import { createServer, type Server } from 'node:http';
import { readFile, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import WebSocket from 'ws';
import { attach, type Agent } from '../src/agent/index.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { indexModels } from '../src/server/models.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { modelHash } from '../src/models/hash.ts';
import { api, Client, tempDataDir } from './server-helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const GRAPH = join(ROOT, 'models', 'nsfw-mobilenet-v2-mid');
const LAYERS = join(ROOT, 'models', 'nsfw-mobilenet-v2');

let files: Server;
let filesPort = 0;
/** With the desktop reference (the first test); the others need none and leave the cores alone. */
let refServer: RunningServer;
let server: RunningServer;

/** The app's model files over HTTP, as any web app serves them (a fixed list, loopback only). */
async function serveModelFiles(): Promise<void> {
  const map = new Map<string, string>();
  for (const [prefix, dir] of [['/graph/', GRAPH], ['/layers/', LAYERS]] as const) {
    for (const f of await readdir(dir)) map.set(prefix + f, join(dir, f));
  }
  files = createServer((req, res) => {
    const p = map.get((req.url ?? '').split('?')[0]!);
    if (!p) {
      res.statusCode = 404;
      return void res.end();
    }
    // Connection: close: a pooled keep-alive socket would race the server's keep-alive timeout.
    res.setHeader('connection', 'close');
    void readFile(p).then((b) => res.end(b));
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  filesPort = (files.address() as AddressInfo).port;
}

/** The agent's socket is open (a capture taken before is dropped, by design). */
async function linkUp(agent: Agent): Promise<void> {
  await expect.poll(() => agent.link?.state ?? null, { timeout: 10_000 }).toBe('open');
}

function input(): tf.Tensor {
  const v = new Float32Array(224 * 224 * 3);
  for (let i = 0; i < v.length; i++) v[i] = ((i * 2654435761) >>> 0) / 2 ** 32;
  return tf.tensor4d(v, [1, 224, 224, 3]);
}

beforeAll(async () => {
  // wasm: MobileNetV2 in ~40 ms (cpu takes seconds on a loaded machine); the cpu path has its own test.
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await serveModelFiles();
  const samples = await indexModels([join(ROOT, 'models')]);
  refServer = await startServer({ dataDir: await tempDataDir(), staticDir: null, port: 0, locate: samples.locate, samples, referenceBackend: 'wasm' });
  server = await startServer({ dataDir: await tempDataDir(), staticDir: null, port: 0, locate: null, samples });
}, 120_000);

afterAll(async () => {
  await refServer?.close();
  await server?.close();
  files?.close();
});

describe('agent in a Node app, streaming to exray serve', () => {
  it('captures the sampled inferences, results bit-identical, the server compares against the bundled model; detach restores', async () => {
    const model = await tf.loadGraphModel(`http://127.0.0.1:${filesPort}/graph/model.json`);
    const x = input();
    const plain = (model.execute(x) as tf.Tensor).dataSync().slice();
    const origExecute = tf.GraphModel.prototype.execute;
    const origPredict = tf.GraphModel.prototype.predict;

    const agent = await attach({ tf, server: `http://127.0.0.1:${refServer.port}`, token: refServer.credentials.agentToken, WebSocket, sample: { first: 1, every: 3 }, log: () => {} });
    expect(tf.GraphModel.prototype.execute).not.toBe(origExecute);
    // Wait for the link: a capture taken while it is down is dropped, by design.
    await linkUp(agent);
    const outs: Float32Array[] = [];
    for (let i = 0; i < 4; i++) {
      const y = model.predict(x) as tf.Tensor;
      outs.push(y.dataSync() as Float32Array);
      y.dispose();
    }
    for (const o of outs) expect(o).toEqual(plain);
    await agent.idle();
    // Captured: the 1st and the 4th (first: 1, every: 3); predict → execute counted once per inference.
    expect(agent.counters).toMatchObject({ inferences: 4, captured: 2, shipped: 2, dropped: 0, failed: 0 });
    await agent.detach();
    expect(tf.GraphModel.prototype.execute).toBe(origExecute);
    expect(tf.GraphModel.prototype.predict).toBe(origPredict);

    await refServer.hub.settled();
    const sessions = [...refServer.store.list()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    expect(sessions).toHaveLength(2);
    const sha = await modelHash(GRAPH);
    for (const s of sessions) {
      const t = decodeTrace((await api(refServer.port, `/api/sessions/${s.id}/trace`)).bytes, 'x.exray');
      expect(s.status, t.header.warnings.join('\n')).toBe('done');
      expect(t.header.warnings.join('\n')).toMatch(/model identity: files fetched again/);
      expect(s.deviceId).toBe('agent');
      expect(s.model.sha256).toBe(sha);
      // Named as the server knows it (the bundled sample's card), not after the app's URL folder.
      expect(s.model.name).toBe('nsfw-mobilenet-v2-mid');
    }
    const r = await api(refServer.port, `/api/sessions/${sessions[0]!.id}/trace`);
    const trace = decodeTrace(r.bytes, 'agent.exray');
    expect(trace.header.timing).toBeUndefined();
    expect(trace.header.nodes.length).toBeGreaterThan(60);
    expect(trace.header.nodes.every((n) => n.outputs.every((o) => o.stats !== undefined))).toBe(true);
    expect(trace.header.outputs[0]!.blob).toBeDefined();
    expect(Array.from(trace.blobs.get(trace.header.outputs[0]!.blob!.id)!)).toEqual(Array.from(plain));
    // The second capture carries the timing of the timing-only inferences between (2nd, 3rd).
    const later = decodeTrace((await api(refServer.port, `/api/sessions/${sessions[1]!.id}/trace`)).bytes, 'agent2.exray');
    expect(later.header.timing?.runMs.length).toBe(2);
    // The desktop's reference ran on the same input with the bundled model and agrees.
    await expect.poll(() => refServer.store.get(sessions[0]!.id)?.verdict ?? null, { timeout: 120_000, interval: 500 }).toBe('ok');
    x.dispose();
  }, 240_000);

  it('a LayersModel loaded from its files is identified by its serialised form and uploaded once', async () => {
    const model = await tf.loadLayersModel(`http://127.0.0.1:${filesPort}/layers/model.json`);
    const before = server.models.list().length;
    const agent = await attach({ tf, server: `http://127.0.0.1:${server.port}`, token: server.credentials.agentToken, WebSocket, sample: { first: 2 }, log: () => {} });
    await linkUp(agent);
    const x = input();
    for (let i = 0; i < 2; i++) (model.predict(x) as tf.Tensor).dispose();
    await agent.idle();
    await agent.detach();
    expect(agent.counters).toMatchObject({ captured: 2, shipped: 2 });
    const uploaded = server.models.list();
    expect(uploaded.length).toBe(before + 1);
    expect(uploaded.at(-1)!.format).toBe('tfjs-layers');
    x.dispose();
  }, 240_000);

  it('"capture the next inference" pressed on the desktop reaches the agent: exactly one more capture', async () => {
    const model = await tf.loadGraphModel(`http://127.0.0.1:${filesPort}/graph/model.json`);
    const agent = await attach({ tf, server: `http://127.0.0.1:${server.port}`, token: server.credentials.agentToken, WebSocket, sample: { first: 0 }, log: () => {} });
    await linkUp(agent);
    const x = input();
    (model.execute(x) as tf.Tensor).dispose();
    expect(agent.counters.captured).toBe(0);
    const desk = await Client.connect(server.port, server.credentials.desktopToken);
    desk.send({ t: 'capture', device: 'agent' });
    expect((await desk.next('capture')).delivered).toBe(1);
    // The request travels to the agent asynchronously: inferences go on until one is captured (bounded).
    for (let i = 0; i < 100 && agent.counters.captured === 0; i++) {
      (model.execute(x) as tf.Tensor).dispose();
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 3; i++) (model.execute(x) as tf.Tensor).dispose();
    await agent.idle();
    expect(agent.counters.captured).toBe(1);
    expect(agent.counters.shipped).toBe(1);
    desk.ws.close();
    await agent.detach();
    x.dispose();
  }, 120_000);

  it('with the server down the app runs on: captures are dropped and counted, nothing is thrown', async () => {
    const model = await tf.loadGraphModel(`http://127.0.0.1:${filesPort}/graph/model.json`);
    const said: string[] = [];
    // Port 9 (discard) on loopback: nothing listens there.
    const agent = await attach({ tf, server: 'http://127.0.0.1:9', token: server.credentials.agentToken, WebSocket, sample: { first: 3 }, log: (_l, m) => said.push(m) });
    const x = input();
    for (let i = 0; i < 3; i++) (model.execute(x) as tf.Tensor).dispose();
    await agent.idle();
    // Dropped when taken (the link had already failed) or when shipped (it never opened): never sent.
    expect(agent.counters).toMatchObject({ inferences: 3, dropped: 3, shipped: 0, failed: 0 });
    expect(said.filter((m) => /dropped/.test(m))).toHaveLength(1);
    await agent.detach(100);
    x.dispose();
  }, 60_000);

  it('cpu and wasm backends: node statistics (wasm: from heap views) agree; results bit-identical on each', async () => {
    const dir = join(await tempDataDir(), 'traces');
    const model = await tf.loadGraphModel(`http://127.0.0.1:${filesPort}/graph/model.json`);
    const x = input();
    const traces = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      await tf.ready();
      const plain = (model.execute(x) as tf.Tensor).dataSync().slice();
      const agent = await attach({ tf, out: join(dir, backend), log: () => {} });
      const y = model.execute(x) as tf.Tensor;
      expect(y.dataSync()).toEqual(plain);
      y.dispose();
      await agent.idle();
      await agent.detach();
      const [f] = await readdir(join(dir, backend));
      traces.push(decodeTrace(new Uint8Array(await readFile(join(dir, backend, f!))), f!));
    }
    await tf.setBackend('wasm');
    const [cpu, wasm] = traces;
    expect(wasm!.header.runtime.backend).toBe('wasm');
    expect(wasm!.header.nodes.map((n) => n.name)).toEqual(cpu!.header.nodes.map((n) => n.name));
    for (let i = 0; i < cpu!.header.nodes.length; i++) {
      const a = cpu!.header.nodes[i]!.outputs[0]!.stats!;
      const b = wasm!.header.nodes[i]!.outputs[0]!.stats!;
      expect(b.count).toBe(a.count);
      expect(Math.abs(b.mean - a.mean)).toBeLessThan(1e-2 * (1 + Math.abs(a.mean)));
    }
    await rm(dir, { recursive: true, force: true });
    x.dispose();
  }, 120_000);

  it('writes .exray files to a folder (Node, no server)', async () => {
    const dir = join(await tempDataDir(), 'traces');
    const model = await tf.loadGraphModel(`http://127.0.0.1:${filesPort}/graph/model.json`);
    const agent = await attach({ tf, out: dir, log: () => {} });
    const x = input();
    (model.execute(x) as tf.Tensor).dispose();
    await agent.idle();
    await agent.detach();
    const written = await readdir(dir);
    expect(written).toHaveLength(1);
    // Named after the folder the app loaded it from (/graph/model.json).
    expect(written[0]).toMatch(/^graph-.*\.exray$/);
    const t = decodeTrace(new Uint8Array(await readFile(join(dir, written[0]!))), written[0]!);
    expect(t.header.model.sha256).toBe(await modelHash(GRAPH));
    await rm(dir, { recursive: true, force: true });
    x.dispose();
  }, 60_000);
});
