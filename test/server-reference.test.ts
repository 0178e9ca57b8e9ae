/**
 * The server's desktop reference (src/server/reference.ts) on a real model, in its real worker thread:
 * an "edge" trace of MobileNetV2 (TF.js wasm, a real photo) is streamed event by event into
 * ReferenceService (cpu reference), which must compare every node live, then give the comparison and
 * the diagnosis, and stay up through unknown models, busy periods and a worker crash.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceService, type ReferenceListener } from '../src/server/reference.ts';
import type { Comparison } from '../src/compare/index.ts';
import type { Diagnosis } from '../src/diagnose/index.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { modelIdentityHash, traceInNode } from '../src/reference/trace-node.ts';
import { traceToEvents } from '../src/trace/events.ts';
import type { NodeRecord, Trace, TraceEvent } from '../src/trace/types.ts';
import type { WireMetric } from '../src/transport/wire.ts';
import { card, MODELS, SAMPLES } from './helpers.ts';

const MODEL = 'nsfw-mobilenet-v2';
const PHOTO = 'chelsea.png';

/** Everything the service said about one session, in order. */
interface Heard {
  ref: TraceEvent[];
  metrics: WireMetric[];
  compared: { verdict: 'ok' | 'diverged'; firstDivergent: string | null; comparison: Comparison }[];
  diagnosis: { cause: string | null; diagnosis: Diagnosis }[];
  refTrace: Trace[];
  notes: string[];
  /** Every callback's name, in order: `released` must come once, last. */
  log: string[];
}

const heard = new Map<string, Heard>();
/** Global order of reference run-start / run-end events: `session:type`. */
const refMarks: string[] = [];
const waiters: { session: string; type: string; resolve: () => void }[] = [];

function of(session: string): Heard {
  let h = heard.get(session);
  if (!h) heard.set(session, (h = { ref: [], metrics: [], compared: [], diagnosis: [], refTrace: [], notes: [], log: [] }));
  return h;
}

/** Logs the callback's name, then records what it said. */
function hear(session: string, kind: string, record: (h: Heard) => void): void {
  const h = of(session);
  h.log.push(kind);
  record(h);
}

const listener: ReferenceListener = {
  refEvent: (s, e) => {
    hear(s, 'refEvent', (h) => h.ref.push(e));
    if (e.type === 'run-start' || e.type === 'run-end') refMarks.push(`${s}:${e.type}`);
    for (const w of waiters.filter((x) => x.session === s && x.type === e.type)) w.resolve();
  },
  metrics: (s, items) => hear(s, 'metrics', (h) => h.metrics.push(...items)),
  compared: (s, r) => hear(s, 'compared', (h) => h.compared.push(r)),
  diagnosis: (s, r) => hear(s, 'diagnosis', (h) => h.diagnosis.push(r)),
  referenceTrace: (s, t) => hear(s, 'referenceTrace', (h) => h.refTrace.push(t)),
  note: (s, text) => hear(s, 'note', (h) => h.notes.push(text)),
  released: (s) => hear(s, 'released', () => {}),
};

/** The service let go of the session, and said nothing after that. */
function expectReleased(h: Heard): void {
  expect(h.log.filter((x) => x === 'released')).toHaveLength(1);
  expect(h.log.at(-1)).toBe('released');
}

const refEventSeen = (session: string, type: string): Promise<void> => new Promise((resolve) => waiters.push({ session, type, resolve }));

/** The trace as a producer streams it, each blob a fresh array: the service takes ownership (transfers them). */
function events(trace: Trace): TraceEvent[] {
  return traceToEvents(trace).map((e) => (e.type === 'blob' ? { ...e, data: e.data.slice() } : e));
}

/** The service's current worker thread (private: the crash test kills it). */
const worker = (): Worker => (service as unknown as { worker: Worker }).worker;

function feed(service: ReferenceService, session: string, evs: TraceEvent[]): void {
  for (const e of evs) service.edgeEvent(session, e);
}

/** `name:k` of every edge node output that has values and a same-named reference node with values of equal length. */
function comparableOutputs(edge: Trace, ref: Trace): string[] {
  const refByName = new Map<string, NodeRecord>();
  for (const n of ref.header.nodes) if (!refByName.has(n.name)) refByName.set(n.name, n);
  const out: string[] = [];
  for (const n of edge.header.nodes) {
    const r = refByName.get(n.name);
    n.outputs.forEach((o, k) => {
      const ro = r?.outputs[k];
      if (o.blob && ro?.blob && o.blob.length === ro.blob.length) out.push(`${n.name}:${k}`);
    });
  }
  return out;
}

let edge: Trace;
let photoBytes: Uint8Array;
const stores = new Map<string, string>();
let service: ReferenceService;
let sessionNo = 0;
const newSession = (): string => `s-${(++sessionNo).toString(16).padStart(16, '0')}`;

beforeAll(async () => {
  // The server's locator, in small: sha256 of each sample model → its directory.
  for (const d of readdirSync(MODELS, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name.startsWith('.')) continue;
    const dir = join(MODELS, d.name);
    stores.set(await modelIdentityHash(dir).catch(() => ''), dir);
  }
  const spec = (await card(MODEL)).inputs[0]!.preprocess!;
  const file = join(SAMPLES, PHOTO);
  photoBytes = new Uint8Array(readFileSync(file));
  const decoded = await decodeImageFile(file);
  const x = preprocess(decoded.image, decoded.source.exifOrientation, spec);
  edge = await traceInNode({
    model: join(MODELS, MODEL),
    backend: 'wasm',
    feed: [{ name: 'input_1', shape: x.shape, dtype: 'float32', data: x.data }],
    feedFile: PHOTO,
    runs: 1,
    warmup: 0,
    source: decoded.source,
    preprocess: spec,
    label: 'edge',
  });
  service = new ReferenceService({ locate: (sha) => stores.get(sha) ?? null, listener, backend: 'cpu' });
});

afterAll(async () => {
  await service?.close();
});

describe('ReferenceService (MobileNetV2, wasm edge vs cpu reference)', () => {
  it('compares every node live, then says ok with no cause', async () => {
    const s = newSession();
    service.photo(s, photoBytes.slice(), PHOTO);
    feed(service, s, events(edge));
    service.end(s);
    await service.idle();
    const h = of(s);

    expect(h.notes).toEqual([]);
    expect(h.refTrace).toHaveLength(1);
    const ref = h.refTrace[0]!;
    expect(ref.header.label).toBe('reference');
    expect(ref.header.referenceFor).toBe(edge.header.id);
    expect(ref.header.runtime.backend).toBe('cpu');
    expect(h.ref[0]?.type).toBe('run-start');
    expect(h.ref.at(-1)?.type).toBe('run-end');

    // Exactly one metric per comparable output, in the edge's node order, all within float32 tolerance.
    const want = comparableOutputs(edge, ref);
    expect(want.length).toBeGreaterThan(100);
    expect(h.metrics.map((m) => `${m.node}:${m.output}`)).toEqual(want);
    expect(h.metrics.filter((m) => m.verdict !== 'ok')).toEqual([]);

    expect(h.compared).toHaveLength(1);
    expect(h.compared[0]!.verdict).toBe('ok');
    expect(h.compared[0]!.firstDivergent).toBeNull();
    expect(h.compared[0]!.comparison.outputs.top1Equal).toBe(true);
    expect(h.diagnosis).toHaveLength(1);
    expect(h.diagnosis[0]!.cause).toBe('none');
    // Diagnosed against the photo: the input search ran and found the edge input canonical.
    expect(h.diagnosis[0]!.diagnosis.inputMatches).toBe(true);
    expect(h.log.slice(-3)).toEqual(['compared', 'diagnosis', 'released']);
  });

  it('names the first divergent node when one node’s values are off', async () => {
    const convs = edge.header.nodes.filter((n) => n.op === 'Conv2D' && n.outputs[0]?.blob);
    const target = convs[Math.floor(convs.length / 3)]!;
    const blobId = target.outputs[0]!.blob!.id;
    const blobs = new Map(edge.blobs);
    // 5 % gain on one layer's output: far outside float32 noise, what a miscompiled kernel would give.
    blobs.set(blobId, (edge.blobs.get(blobId) as Float32Array).map((v) => v * 1.05));
    const bad: Trace = { header: edge.header, blobs };

    const s = newSession();
    feed(service, s, events(bad));
    service.end(s);
    await service.idle();
    const h = of(s);

    expect(h.notes).toEqual([]);
    const own = h.metrics.filter((m) => m.node === target.name);
    expect(own).toHaveLength(target.outputs.length);
    expect(own[0]!.verdict).toBe('diverged');
    expect(own[0]!.reasons.length).toBeGreaterThan(0);
    expect(h.compared[0]!.verdict).toBe('diverged');
    const order = edge.header.nodes.map((n) => n.name);
    const first = h.compared[0]!.firstDivergent!;
    expect(order.indexOf(first)).toBeGreaterThanOrEqual(order.indexOf(target.name));
    expect(first).toBe(target.name);
    expect(h.diagnosis).toHaveLength(1);
    // Replayed alone on the edge's own inputs, the node is wrong by itself: a kernel cause, at that node.
    expect(h.diagnosis[0]!.cause).toBe('kernel');
    expect(h.diagnosis[0]!.diagnosis.firstDivergentNode).toBe(target.name);
    expectReleased(h);
  });

  it('says plainly when the model is not in the store, and keeps going', async () => {
    const s = newSession();
    const evs = events(edge).map((e) => (e.type === 'run-start' ? { ...e, model: { ...e.model, sha256: 'f'.repeat(64) } } : e));
    feed(service, s, evs);
    service.end(s);
    await service.idle();
    const h = of(s);
    expect(h.notes).toEqual([`no reference: model "${MODEL}" (sha256 ffffffffffff…) is not in the server's store`]);
    expect(h.metrics).toEqual([]);
    expect(h.ref).toEqual([]);
    expect(h.compared).toEqual([]);
    expect(h.diagnosis).toEqual([]);
    expectReleased(h);
  });

  it('reports a worker crash to the active session and starts a new worker for the next one', async () => {
    const s = newSession();
    feed(service, s, events(edge));
    await refEventSeen(s, 'run-start');
    // A real crash: the worker thread is killed mid-inference.
    const crashed = worker();
    await crashed.terminate();
    service.end(s);
    expect(of(s).notes).toHaveLength(1);
    expect(of(s).notes[0]).toMatch(/^reference worker crashed/);
    expect(of(s).compared).toEqual([]);
    expectReleased(of(s));

    // The next session gets a new worker: it answers (this note comes from the worker), and the next
    // test runs its real references on it.
    const next = newSession();
    feed(service, next, events(edge).map((e) => (e.type === 'run-start' ? { ...e, model: { ...e.model, sha256: '0'.repeat(64) } } : e)));
    service.end(next);
    await service.idle();
    expect(worker()).not.toBe(crashed);
    expect(of(next).notes).toEqual([`no reference: model "${MODEL}" (sha256 000000000000…) is not in the server's store`]);
    expectReleased(of(next));
  });
  it('keeps each session in order while the worker is busy, one inference at a time', async () => {
    const a = newSession();
    const b = newSession();
    feed(service, a, events(edge));
    service.end(a);
    // B streams while A's reference runs; its input blob comes before run-start, as the wire allows.
    await refEventSeen(a, 'run-start');
    const evs = events(edge);
    const [start, inputBlob] = [evs[0]!, evs[1]!];
    expect(inputBlob.type).toBe('blob');
    const rest = evs.slice(2);
    service.edgeEvent(b, inputBlob);
    service.edgeEvent(b, start);
    for (let i = 0; i < rest.length; i += 40) {
      feed(service, b, rest.slice(i, i + 40));
      await new Promise((r) => setTimeout(r, 5));
    }
    service.end(b);
    await service.idle();

    const ha = of(a);
    const hb = of(b);
    expect([...ha.notes, ...hb.notes]).toEqual([]);
    const want = comparableOutputs(edge, hb.refTrace[0]!);
    expect(ha.metrics.map((m) => `${m.node}:${m.output}`)).toEqual(want);
    expect(hb.metrics.map((m) => `${m.node}:${m.output}`)).toEqual(want);
    expect(hb.compared.map((c) => c.verdict)).toEqual(['ok']);
    expect(hb.diagnosis.map((d) => d.cause)).toEqual(['none']);
    // B's reference started only after A's had finished.
    expect(refMarks.indexOf(`${a}:run-end`)).toBeLessThan(refMarks.indexOf(`${b}:run-start`));
    expectReleased(ha);
    expectReleased(hb);
  });

});
