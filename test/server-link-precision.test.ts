/**
 * The phone link's narrowed encodings (issue #16 item 4): a producer that opens its run with
 * `precision: 'float16'` sends every float32 node and output blob as 2-byte values (inputs exact), the
 * server stores the trace at that precision and says so (`storagePrecision`), and a comparison with the
 * exact trace knows it. Real run: MobileNetV2 (layers) on chelsea.png, the real SocketProducer over
 * `ws` to a real server on loopback.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compareTraces } from '../src/compare/compare.ts';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { fromHalfBits, toHalfBits } from '../src/trace/half.ts';
import { traceToEvents } from '../src/trace/events.ts';
import type { Trace } from '../src/trace/types.ts';
import type { WebSocketCtor } from '../src/transport/reconnect.ts';
import { SocketProducer } from '../src/transport/socket.ts';
import { edgeCase } from './diagnose-helpers.ts';
import { api, runMeta, tempDataDir } from './server-helpers.ts';

let edge: Trace;
let server: RunningServer;

beforeAll(async () => {
  edge = (await edgeCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png' })).edge;
  server = await startServer({ dataDir: await tempDataDir(), staticDir: null, port: 0, lanHosts: [], locate: null });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

async function stream(precision: 'float16' | 'bfloat16'): Promise<{ id: string; stored: Trace; fileBytes: number; blobBytes: number }> {
  const producer = new SocketProducer({ url: `ws://127.0.0.1:${server.port}/ws`, token: server.credentials.desktopToken, WebSocket: WebSocket as unknown as WebSocketCtor, lifecycle: null });
  try {
    const id = await producer.begin({ ...runMeta(edge), precision });
    for (const event of traceToEvents(edge)) producer.send({ stream: 'edge', event });
    const outcome = await producer.end();
    expect(outcome.status, outcome.reason ?? '').toBe('done');
    const file = await api(server.port, `/api/sessions/${id}/trace`);
    expect(file.status).toBe(200);
    const info = ((await api(server.port, '/api/sessions')).json as { id: string; blobBytes: number }[]).find((s) => s.id === id)!;
    return { id, stored: decodeTrace(file.bytes, `${id}.exray`), fileBytes: file.bytes.byteLength, blobBytes: info.blobBytes };
  } finally {
    producer.close();
  }
}

it('float16 on the link: half the bytes sent and stored, node values rounded to float16, inputs exact, and the comparison knows', async () => {
  const half = await stream('float16');
  expect(edge.header.storagePrecision).toBeUndefined();
  expect(half.stored.header.storagePrecision).toBe('float16');
  const inputIds = new Set(edge.header.input.tensors.map((t) => t.blob?.id));
  let narrowedValues = 0;
  for (const [id, data] of edge.blobs) {
    const got = half.stored.blobs.get(id)!;
    expect(got.length, id).toBe(data.length);
    if (inputIds.has(id) || data instanceof Int32Array) {
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), id).toBe(true);
      continue;
    }
    for (let i = 0; i < data.length; i += 97) expect(got[i], `${id}[${i}]`).toBe(fromHalfBits(toHalfBits(data[i]!)));
    narrowedValues += data.length;
  }
  expect(narrowedValues).toBeGreaterThan(1_000_000);
  // Bytes: the inputs stay 4 bytes a value, everything else 2.
  const inputBytes = edge.header.input.tensors.reduce((s, t) => s + (t.blob ? edge.blobs.get(t.blob.id)!.byteLength : 0), 0);
  const allBytes = [...edge.blobs.values()].reduce((s, d) => s + d.byteLength, 0);
  expect(half.blobBytes).toBe((allBytes - inputBytes) / 2 + inputBytes);
  // The store keeps blobs undeflated: an exact session's file is the raw trace's size.
  expect(half.fileBytes).toBeLessThan(0.55 * encodeTrace(edge, { compress: false }).byteLength);
  // Against the exact trace: within tolerance, and the storage rounding is named.
  const c = compareTraces(half.stored, edge);
  expect(c.verdict, c.summary).toBe('ok');
  expect(c.warnings.join('\n')).toMatch(/edge trace: .*float16/);
}, 120_000);
