/**
 * Load on loopback: 20 phones stream a recorded MobileNetV2 full-capture trace at once into a server
 * running in its own process. Every stored trace is byte-identical to what was sent, and the server's
 * peak memory stays bounded (it never holds every session at once).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeTrace } from '../../src/trace/file.ts';
import type { Trace } from '../../src/trace/types.ts';
import { edgeCase } from '../diagnose-helpers.ts';
import { api, Client, pairedToken, runMeta, sessionItems, startChildServer, tempDataDir, type ChildServer } from '../server-helpers.ts';

const SESSIONS = 20;
/** The documented bound for this load (docs/serve.md): 20 × 88 MB streamed, never all held. */
const MAX_SERVER_RSS = 1024 * 1024 * 1024;

let edge: Trace;
let server: ChildServer;

beforeAll(async () => {
  edge = (await edgeCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png' })).edge;
  server = await startChildServer(await tempDataDir());
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

it(`${SESSIONS} simultaneous sessions: every stored trace byte-identical, server memory bounded`, async () => {
  const items = sessionItems(edge);
  const payload = [...edge.blobs.values()].reduce((n, b) => n + b.byteLength, 0);
  const tokens: string[] = [];
  for (let k = 0; k < SESSIONS; k++) tokens.push(await pairedToken(server.port));
  const t0 = performance.now();
  const ids = await Promise.all(
    tokens.map(async (token) => {
      const c = await Client.connect(server.port, token);
      const id = await c.open(runMeta(edge));
      await c.stream(id, items, 300_000);
      c.close();
      return id;
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const rss = await server.peakRss();
  process.stdout.write(`load: ${SESSIONS} × ${(payload / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s (${((SESSIONS * payload) / 1e6 / seconds).toFixed(0)} MB/s), server peak RSS ${(rss / 1e6).toFixed(0)} MB\n`);
  for (const id of ids) {
    let info: { status?: string } = {};
    for (let k = 0; k < 600 && info.status !== 'done'; k++) {
      info = (await api(server.port, `/api/sessions/${id}`)).json as { status?: string };
      if (info.status !== 'done') await new Promise((r) => setTimeout(r, 100));
    }
    expect(info.status, id).toBe('done');
    const stored = decodeTrace((await api(server.port, `/api/sessions/${id}/trace`)).bytes, id);
    expect(stored.blobs.size).toBe(edge.blobs.size);
    for (const [bid, data] of edge.blobs) {
      const got = stored.blobs.get(bid)!;
      expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(data.buffer, data.byteOffset, data.byteLength)), bid).toBe(0);
    }
  }
  expect(await server.peakRss()).toBeLessThan(MAX_SERVER_RSS);
}, 600_000);
