/**
 * The stats ring (src/trace/stats-ring.ts) with its worker on a Node thread (the page's ring worker
 * runs the same serveStatsRing; test/stats-pool-web.test.ts runs it in Chromium): answers equal to
 * computeStats bit for bit, what it refuses, a worker gone or silent, and TF.js captures whose
 * statistics it computes: the same trace as a capture computing them on its own thread, and nodes
 * still handed on during the run.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { capturePass, captureOptions, traceModel, type ModelInputs } from '../src/instrument/tfjs/index.ts';
import type { TfjsModel } from '../src/instrument/tfjs/hooks.ts';
import { closeStatsRing, ringPages, RING_MAX_BINS, StatsRing } from '../src/trace/stats-ring.ts';
import { answerStatsJob, openStatsRing, touchStatsRing } from '../src/trace/stats-ring-worker.ts';
import { computeStats } from '../src/trace/stats.ts';
import { tf } from './helpers.ts';
import { WatchedRunner, withSample } from './capture-helpers.ts';
import { expectSameTrace } from './same-trace.ts';

const WORKER = new URL('./fixtures/stats-ring-worker.mjs', import.meta.url);
const open: { ring: StatsRing; worker: Worker | null }[] = [];

afterEach(async () => {
  for (const o of open.splice(0)) {
    closeStatsRing(o.ring.memory);
    await o.worker?.terminate();
  }
});

/** `keep`: bytes it may grow by for kept arrays. */
function sharedMemory(bytes?: number, keep = 0): WebAssembly.Memory {
  const pages = ringPages(bytes);
  return new WebAssembly.Memory({ initial: pages, maximum: pages + keep / 65536, shared: true });
}

/** A ring and its worker, once the worker has touched its memory and said it is ready. */
async function ring(opts: { bytes?: number; timeoutMs?: number; keep?: number } = {}): Promise<{ ring: StatsRing; worker: Worker }> {
  const memory = sharedMemory(opts.bytes, opts.keep);
  const r = new StatsRing(memory, opts.timeoutMs);
  const worker = new Worker(WORKER, { workerData: memory });
  open.push({ ring: r, worker });
  if (!(await r.whenReady(30_000))) throw new Error('the ring worker did not get ready in 30 s');
  return { ring: r, worker };
}

/** Arrays whose statistics take each of computeStats' paths. */
function arrays(): { name: string; v: Float32Array; bins: number }[] {
  const rand = (n: number, f: (i: number) => number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));
  let seed = 7;
  const next = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return [
    { name: 'ReLU6-like, 100,003 values', v: rand(100_003, () => Math.min(6, Math.max(0, (next() - 0.3) * 8))), bins: 32 },
    { name: 'normal-ish with a large mean', v: rand(65_536, () => 1000 + next() + next() - 1), bins: RING_MAX_BINS },
    { name: 'with NaN and ±Inf', v: rand(4099, (i) => (i % 97 === 0 ? NaN : i % 101 === 0 ? -Infinity : i % 103 === 0 ? Infinity : next() - 0.5)), bins: 7 },
    { name: 'constant', v: new Float32Array(4096).fill(7.25), bins: 32 },
    { name: 'all zeros, odd length', v: new Float32Array(4097), bins: 32 },
    { name: 'no finite value', v: new Float32Array(8).fill(NaN), bins: 32 },
    { name: 'three values', v: Float32Array.of(-1, 0, 2.5), bins: 1 },
  ];
}

describe('stats ring', () => {
  it('answers what computeStats gives, bit for bit, in order, many jobs in flight', async () => {
    const { ring: r } = await ring();
    const cases = arrays();
    const tickets = cases.map((c) => r.submit(c.v, c.bins));
    expect(tickets.every((t) => t !== null)).toBe(true);
    for (const [i, c] of cases.entries()) {
      const s = await r.wait(tickets[i]!);
      expect(s, c.name).toStrictEqual(computeStats(c.v, c.bins));
      expect(Object.is(s.mean, computeStats(c.v, c.bins).mean), c.name).toBe(true);
    }
  }, 60_000);

  it('refuses what it cannot take; a small ring carries many jobs, one after another', async () => {
    const { ring: r } = await ring({ bytes: 1 << 20 });
    expect(r.submit(new Float32Array(16), RING_MAX_BINS + 1)).toBeNull();
    expect(r.submit(new Float32Array(0), 32)).toBeNull();
    // More than half the ring: never taken (the caller computes it).
    expect(r.submit(new Float32Array((1 << 20) / 8 + 4), 32)).toBeNull();
    // 3 MiB through a 1 MiB ring, 192 KiB at a time.
    const v = arrays()[0]!.v.subarray(0, 49_152);
    const want = computeStats(v, 32);
    let taken = 0;
    for (let i = 0; i < 16; i++) {
      const t = r.submit(v, 32);
      if (t === null) continue;
      taken++;
      expect(await r.wait(t)).toStrictEqual(want);
    }
    expect(taken).toBe(16);
  }, 60_000);

  it('never lets a job overwrite one in flight: refuses when full, wraps into room freed', () => {
    // This thread plays the worker, one job at a time, so what is in flight is known.
    const memory = sharedMemory(1 << 20);
    const r = new StatsRing(memory);
    openStatsRing(memory);
    const job = (seed: number): Float32Array => Float32Array.from({ length: 60_000 }, (_, i) => Math.sin(seed * 1000 + i) * seed);
    const want = (seed: number) => computeStats(job(seed), 32);
    // 1 MiB holds four jobs of 240 KB, not five.
    const tickets = [0, 1, 2, 3, 4].map((seed) => r.submit(job(seed), 32));
    expect(tickets).toEqual([0, 1, 2, 3, null]);
    expect(r.poll(0)).toBeUndefined();
    expect(answerStatsJob(memory)).toBe(true);
    expect(answerStatsJob(memory)).toBe(true);
    // Jobs 2 and 3 are in flight in the ring's second to fourth quarter: the next lands at its start,
    // the one after it would reach job 2's first value, and is refused.
    expect(r.submit(job(5), 32)).toBe(4);
    expect(r.submit(job(6), 32)).toBeNull();
    while (answerStatsJob(memory));
    expect(answerStatsJob(memory)).toBe(false);
    [0, 1, 2, 3, 5].forEach((seed, ticket) => expect(r.poll(ticket), `job ${seed}`).toStrictEqual(want(seed)));
    // Nothing in flight: it starts over at the ring's start.
    expect(r.submit(job(7), 32)).toBe(5);
    answerStatsJob(memory);
    expect(r.poll(5)).toStrictEqual(want(7));
    // At most 512 jobs in flight.
    const small = Float32Array.of(1, 2, 3);
    const many = Array.from({ length: 513 }, () => r.submit(small, 32));
    expect(many.filter((t) => t !== null).length).toBe(512);
    expect(many[512]).toBeNull();
  });

  it('keeps values: each array it hands out is copied into once, its statistics computed where it lies, never written again', async () => {
    const { ring: r } = await ring({ bytes: 1 << 20, keep: 2 << 20 });
    const cases = arrays();
    // No room until a capture says what it will keep.
    expect(r.keptBytes).toBe(0);
    expect(r.readyBlob('float32', 16)).toBeNull();
    r.expect(cases.map((c) => c.v.byteLength));
    expect(r.keptBytes).toBeGreaterThanOrEqual(cases.reduce((a, c) => a + c.v.byteLength, 0));
    await r.memoryReady(30_000);
    expect(r.keptMemoryReady).toBe(true);
    const kept = cases.map((c) => {
      const a = r.readyBlob('float32', c.v.length) as Float32Array;
      a.set(c.v);
      return a;
    });
    for (const a of kept) {
      expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(a.byteOffset % 16).toBe(0);
    }
    const tickets = kept.map((a, i) => r.submit(a, cases[i]!.bins));
    // Jobs through the ring proper meanwhile, many times its size: they never reach a kept array.
    let seed = 1;
    const other = (): Float32Array => Float32Array.from({ length: 30_000 }, (_, i) => Math.cos(seed * 7 + i) * seed);
    for (let j = 0; j < 60; j++, seed++) {
      const v = other();
      const t = r.submit(v, 16);
      if (t !== null) expect(await r.wait(t)).toStrictEqual(computeStats(v, 16));
    }
    for (const [i, c] of cases.entries()) {
      expect(await r.wait(tickets[i]!), c.name).toStrictEqual(computeStats(c.v, c.bins));
      expect(Object.is(kept[i]![0], c.v[0]) && kept[i]!.every((x, k) => Object.is(x, c.v[k])), `${c.name}: kept values intact`).toBe(true);
    }
    expect(r.given).toBe(cases.length);
    const ints = r.readyBlob('int32', 5);
    expect(ints).toBeInstanceOf(Int32Array);
    // Beyond the memory's maximum: null, and the caller allocates.
    r.expect([8 << 20]);
    expect(r.readyBlob('float32', 2 << 20)).toBeNull();
    r.captureEnded();
    // recycle: nobody holds them any more, the same memory is handed out again.
    r.recycle();
    expect(r.readyBlob('float32', cases[0]!.v.length)!.byteOffset).toBe(kept[0]!.byteOffset);
  }, 60_000);

  it('kept memory: pages grown are touched by the worker without changing a value written first; a capture that found no room leaves room for the next', () => {
    // This thread plays the worker.
    const memory = sharedMemory(1 << 20, 4 << 20);
    const r = new StatsRing(memory);
    openStatsRing(memory);
    expect(r.keptMemoryReady).toBe(true);
    // A capture without `expect`: no room, but it says how much it wanted.
    expect(r.readyBlob('float32', 100_000)).toBeNull();
    expect(r.readyBlob('float32', 50_000)).toBeNull();
    r.captureEnded();
    expect(r.keptBytes).toBeGreaterThanOrEqual(600_000);
    expect(r.keptBytes).toBeLessThan(600_000 + 65536);
    expect(r.keptMemoryReady).toBe(false);
    r.recycle();
    // Written before the worker touched its pages (a capture that did not wait): kept as written.
    const a = r.readyBlob('float32', 100_000)!;
    a.fill(-3.5);
    let rounds = 0;
    while (touchStatsRing(memory)) rounds++;
    expect(rounds).toBeGreaterThan(0);
    expect(r.keptMemoryReady).toBe(true);
    expect(a.every((x) => x === -3.5)).toBe(true);
    // Given up, a kept job is computed here, where it lies.
    const t = r.submit(a as Float32Array, 8)!;
    expect(r.submitted).toBe(1);
    r.giveUp('test');
    expect(r.poll(t)).toStrictEqual(computeStats(new Float32Array(100_000).fill(-3.5), 8));
  });

  it('a ring without a ready worker takes nothing', async () => {
    const r = new StatsRing(sharedMemory(1 << 20));
    expect(r.submit(new Float32Array(16), 32)).toBeNull();
    expect(await r.whenReady(100)).toBe(false);
    expect(() => new StatsRing(new WebAssembly.Memory({ initial: 1 }))).toThrow(/must be shared/);
  });

  it('a worker that is gone or silent is given up: what it left is computed here', async () => {
    const { ring: r, worker } = await ring({ timeoutMs: 300 });
    const cases = arrays();
    // The worker stops serving (closed under it) with jobs submitted: nobody answers them.
    await worker.terminate();
    const tickets = cases.map((c) => r.submit(c.v, c.bins));
    expect(tickets.every((t) => t !== null)).toBe(true);
    for (const [i, c] of cases.entries()) expect(await r.wait(tickets[i]!), c.name).toStrictEqual(computeStats(c.v, c.bins));
    expect(r.givenUp).toMatch(/no statistics from its worker in 300 ms/);
    // Given up: it takes nothing more.
    expect(r.submit(cases[0]!.v, 32)).toBeNull();
    // A worker's error event gives it up at once, jobs in flight computed here.
    const other = await ring();
    const t = other.ring.submit(cases[1]!.v, 32)!;
    other.ring.giveUp('its worker failed: test');
    expect(await other.ring.wait(t)).toStrictEqual(computeStats(cases[1]!.v, 32));
  }, 60_000);
});

async function checkCaptures(model: TfjsModel, x: ModelInputs, backend: string): Promise<void> {
  const { ring: r } = await ring({ keep: 128 << 20 });
  for (const capture of ['tensors', 'stats'] as const) {
    const opts = { capture, runs: 1, warmup: 0 };
    const here = await traceModel(model, x, opts);
    const before = r.submitted;
    const there = await traceModel(model, x, { ...opts, statsRing: r });
    expectSameTrace(there, here);
    // Every float32 output went to the ring (none larger than half of it, none refused for room).
    const float32 = here.header.nodes.flatMap((n) => n.outputs.filter((o) => o.dtype === 'float32' && o.stats)).length;
    expect(r.submitted - before, capture).toBeGreaterThanOrEqual(float32 - 2);
    if (capture === 'tensors') {
      // The page's way: the ring keeps the values too, each output copied once, into its memory.
      const given = r.given;
      const kept = await traceModel(model, x, { ...opts, statsRing: r, memory: r });
      expectSameTrace(kept, here);
      const nodeBlobs = kept.header.nodes.flatMap((n) => n.outputs.flatMap((o) => (o.blob ? [kept.blobs.get(o.blob.id)!] : [])));
      expect(nodeBlobs.length).toBeGreaterThan(10);
      expect(r.given - given).toBe(nodeBlobs.length);
      expect(nodeBlobs.every((b) => b.buffer instanceof SharedArrayBuffer)).toBe(true);
    }
    // Nodes are handed on in order, each as soon as its statistics are back: with a ring whose
    // worker is this thread (each job answered as it is submitted), every one during the run. (How
    // far behind a real worker is depends on the cores it gets: on a loaded 2-core machine it
    // answered 7 of 69 MobileNetV2 nodes before the run's end. The page's rows streaming during a
    // run: e2e/run-backends.spec.ts.)
    const runner = new WatchedRunner(model, x);
    const during: boolean[] = [];
    const names: string[] = [];
    const inline = inlineRing();
    const pass = await capturePass(runner, backend, (n) => {
      during.push(runner.running);
      names.push(n.name);
    }, captureOptions(capture, 32, { statsRing: inline }));
    tf.dispose(pass.outputs);
    expect(inline.submitted, capture).toBeGreaterThanOrEqual(float32 - 2);
    expect(names).toEqual(here.header.nodes.map((n) => n.name));
    expect(during.every(Boolean), `${capture}: every node handed on during the run`).toBe(true);
  }
}

/** A ring whose worker is this thread: each job is answered as it is submitted. */
function inlineRing(): StatsRing {
  const memory = sharedMemory();
  openStatsRing(memory);
  const r = new StatsRing(memory);
  const submit = r.submit.bind(r);
  r.submit = (values, bins) => {
    const ticket = submit(values, bins);
    if (ticket !== null) answerStatsJob(memory);
    return ticket;
  };
  return r;
}

describe('TF.js captures with their statistics on the ring', () => {
  it('wasm: MobileNetV2 graph model', () => withSample('nsfw-mobilenet-v2-mid', 'wasm', (model, x) => checkCaptures(model, x, 'wasm')), 120_000);
  it('cpu: emotion (layers model)', () => withSample('emotion', 'cpu', (model, x) => checkCaptures(model, x, 'cpu')), 120_000);
});
