/**
 * The phone link on loopback (`exray serve` in a child process, Node WebSocket clients):
 * - stream throughput: MB/s of tensor payload from the first frame sent to the last ack (acked =
 *   journaled), one session alone and 4 at once, and one session whose values travel as float16;
 * - the link's encodings: bytes on the wire per session and the producer's framing time, exact vs
 *   float16 / bfloat16;
 * - forwarding latency: a node event sent by the producer → the same node on a watching desktop socket,
 *   p50 / p95, with the server's reference running for that session;
 * - memory: the server's peak RSS while 20 sessions stream a MobileNetV2 full-capture trace at once.
 */
import { traceInNode } from '../src/reference/trace-node.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { loadModelCard } from '../src/models/card.ts';
import type { Trace } from '../src/trace/types.ts';
import type { LinkPrecision } from '../src/transport/wire.ts';
import { Client, pairedToken, runMeta, sessionItems, startChildServer, tempDataDir, type ChildServer } from '../test/server-helpers.ts';
import type { BenchResult } from './types.ts';

async function mobileNetTrace(): Promise<Trace> {
  const card = await loadModelCard('models/nsfw-mobilenet-v2/exray.json');
  const input = card.inputs[0]!;
  const spec = input.preprocess!;
  const decoded = await decodeImageFile('public/samples/chelsea.png');
  const t = preprocess(decoded.image, decoded.source.exifOrientation, spec);
  return traceInNode({
    model: 'models/nsfw-mobilenet-v2',
    backend: 'wasm',
    feed: [{ name: input.name, shape: t.shape, dtype: 'float32', data: t.data }],
    feedFile: 'chelsea.png',
    runs: 1,
    warmup: 0,
    source: decoded.source,
    preprocess: spec,
    label: 'edge',
  });
}

function payloadBytes(trace: Trace): number {
  return [...trace.blobs.values()].reduce((n, b) => n + b.byteLength, 0);
}

async function streamSessions(server: ChildServer, trace: Trace, n: number, precision?: LinkPrecision): Promise<number> {
  const items = sessionItems(trace, undefined, precision);
  const tokens: string[] = [];
  for (let k = 0; k < n; k++) tokens.push(await pairedToken(server.port));
  const clients = await Promise.all(tokens.map((t) => Client.connect(server.port, t)));
  const ids = await Promise.all(clients.map((c) => c.open({ ...runMeta(trace), ...(precision ? { precision } : {}) })));
  const t0 = performance.now();
  await Promise.all(clients.map((c, k) => c.stream(ids[k]!, items, 600_000)));
  const seconds = (performance.now() - t0) / 1000;
  for (const c of clients) c.close();
  return (n * payloadBytes(trace)) / 1e6 / seconds;
}

/** Bytes on the link for one session's items, and the producer's time to make them (median of 5). */
function linkCost(trace: Trace, precision?: LinkPrecision): { bytes: number; ms: number } {
  let bytes = 0;
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const items = sessionItems(trace, undefined, precision);
    times.push(performance.now() - t0);
    bytes = items.reduce((n, it) => n + (typeof it.data === 'string' ? Buffer.byteLength(it.data) : it.data.byteLength), 0);
  }
  return { bytes, ms: quantile(times, 0.5) };
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** Producer paces items as a phone's capture pass would (a node every few ms); the desktop watches. */
async function forwardLatency(server: ChildServer, trace: Trace): Promise<{ p50: number; p95: number; nodes: number }> {
  const desk = await Client.connect(server.port, server.desktopToken);
  const phone = await Client.connect(server.port, await pairedToken(server.port));
  const id = await phone.open(runMeta(trace));
  const items = sessionItems(trace);
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  desk.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const m = JSON.parse(data.toString('utf8')) as { t: string; event?: { type: string; node?: { name: string } } };
    if (m.t === 'sev' && m.event?.type === 'node' && m.event.node) {
      const t = sentAt.get(m.event.node.name);
      if (t !== undefined) lat.push(performance.now() - t);
    }
  });
  desk.send({ t: 'watch', session: id });
  await desk.next('session', (m) => m.info.id === id);
  await new Promise((r) => setTimeout(r, 200));
  for (const it of items) {
    if (typeof it.data === 'string' && it.data.includes('"type":"node"')) {
      const name = (JSON.parse(it.data) as { event: { node: { name: string } } }).event.node.name;
      sentAt.set(name, performance.now());
      phone.send(it.data);
      await new Promise((r) => setTimeout(r, 5));
    } else phone.send(it.data);
  }
  await phone.next('ack', (a) => a.seq >= items[items.length - 1]!.seq, 120_000);
  await new Promise((r) => setTimeout(r, 500));
  phone.close();
  desk.close();
  return { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), nodes: lat.length };
}

export async function benchServe(): Promise<BenchResult[]> {
  const trace = await mobileNetTrace();
  const mb = payloadBytes(trace) / 1e6;
  const out: BenchResult[] = [{ name: 'serve: MobileNetV2 full-capture payload per session', value: mb, unit: 'MB' }];
  // The link's encodings side by side: what a session puts on the wire, and the producer's cost to frame it.
  for (const p of [undefined, 'float16', 'bfloat16'] as const) {
    const c = linkCost(trace, p);
    const tag = p ? `values sent as ${p}` : 'values sent exact (float32)';
    out.push({ name: `serve: MobileNetV2 full capture, ${tag}: bytes on the link per session`, value: c.bytes / 1e6, unit: 'MB' });
    out.push({ name: `serve: MobileNetV2 full capture, ${tag}: producer framing time (median of 5)`, value: c.ms, unit: 'ms' });
  }

  let server = await startChildServer(await tempDataDir());
  try {
    await streamSessions(server, trace, 1); // warm-up (tsx compile, page cache)
    const one: number[] = [];
    for (let r = 0; r < 3; r++) one.push(await streamSessions(server, trace, 1));
    out.push({ name: 'serve: stream throughput into the store, 1 session (median of 3)', value: quantile(one, 0.5), unit: 'MB/s' });
    out.push({ name: 'serve: stream throughput into the store, 4 sessions at once', value: await streamSessions(server, trace, 4), unit: 'MB/s' });
    const half: number[] = [];
    for (let r = 0; r < 3; r++) half.push(await streamSessions(server, trace, 1, 'float16'));
    out.push({ name: 'serve: stream throughput into the store, 1 session, values sent as float16 (float32 MB carried per second, median of 3)', value: quantile(half, 0.5), unit: 'MB/s' });
  } finally {
    await server.stop();
  }

  server = await startChildServer(await tempDataDir(), true);
  try {
    const l = await forwardLatency(server, trace);
    out.push({ name: 'serve: node sent by the phone → on the watching desktop socket, p50 (reference running)', value: l.p50, unit: 'ms' });
    out.push({ name: 'serve: node sent by the phone → on the watching desktop socket, p95 (reference running)', value: l.p95, unit: 'ms' });
  } finally {
    await server.stop();
  }

  server = await startChildServer(await tempDataDir(), true);
  try {
    const rate = await streamSessions(server, trace, 20);
    out.push({ name: 'serve: 20 sessions at once (reference on), aggregate throughput', value: rate, unit: 'MB/s' });
    out.push({ name: 'serve: server peak RSS during the 20-session load', value: (await server.peakRss()) / 1e6, unit: 'MB' });
  } finally {
    await server.stop();
  }
  return out;
}
