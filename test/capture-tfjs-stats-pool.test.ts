/**
 * TF.js captures with statistics on worker threads (NodeStatsPool, as exray trace / reference run
 * them): each node's output copied once as its node ends, the copy moved to a thread and back with
 * its statistics while the run goes on. The trace must be the one the in-thread capture (statistics
 * in the wasm heap, as each node ends) gives: every record, statistic and histogram bin the same, every
 * blob the same bytes, on real models, in `tensors` and `stats` captures, on wasm and cpu.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobPool, captureOptions, capturePass, Runner, traceModel, type TraceModelOptions } from '../src/instrument/tfjs/index.ts';
import { STATS_POOL_IN_FLIGHT_BYTES } from '../src/instrument/tfjs/passes.ts';
import type { TfjsModel } from '../src/instrument/tfjs/hooks.ts';
import { NodeStatsPool } from '../src/reference/stats-pool-node.ts';
import type { StatsPool, StatsResult } from '../src/trace/stats-pool.ts';
import type { Trace, TensorStats } from '../src/trace/types.ts';
import { decodeTrace, encodeTrace } from '../src/trace/index.ts';
import { loadSample, photoFeed, tf, toTensor, useBackend } from './helpers.ts';
import { expectSameTrace } from './same-trace.ts';

const pool = new NodeStatsPool({ threads: 2 });
// Threads up before the first trace: until then the pool computes on the calling thread (by design).
beforeAll(async () => expect(await pool.whenReady()).toBe(true), 60_000);
afterAll(() => pool.close());

/** `ready`: copies the pool's capture made into memory the pool had made ready. */
async function bothWays(model: TfjsModel, x: tf.Tensor | Record<string, tf.Tensor>, capture: 'stats' | 'tensors', extra: TraceModelOptions = {}): Promise<{ here: Trace; there: Trace; sent: number; ready: number }> {
  const opts = { capture, runs: 1, warmup: 0, ...extra };
  const here = await traceModel(model, x, opts);
  const sentBefore = pool.sent;
  const readyBefore = pool.readyTaken;
  const there = await traceModel(model, x, { ...opts, statsPool: pool });
  return { here, there, sent: pool.sent - sentBefore, ready: pool.readyTaken - readyBefore };
}

describe('wasm: statistics on worker threads give the trace statistics in the heap give', () => {
  beforeAll(() => useBackend('wasm'));

  it('MobileNetV2 graph model, tensors and stats captures', async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    const model = (await loadSample(name)).model;
    const f = await photoFeed(name, 'chelsea.png');
    const feed = { [f.name]: toTensor(f) };
    try {
      const t = await bothWays(model, feed, 'tensors');
      // The threads did the work: MobileNetV2's activations are 16,384 elements and more.
      expect(t.sent).toBeGreaterThan(50);
      expect(t.there.blobs.size).toBe(t.here.blobs.size);
      expectSameTrace(t.there, t.here);
      // Every node's copy lies in memory the threads read where it is (nothing moved there and back);
      // the final outputs (read after the run) do not.
      const nodeBlobs = new Set(t.there.header.nodes.flatMap((n) => n.outputs.map((o) => o.blob!.id)));
      for (const [id, data] of t.there.blobs) expect(data.buffer instanceof SharedArrayBuffer, id).toBe(nodeBlobs.has(id));
      // The pool's first capture: its memory was made ready while the timing passes ran (the
      // capture said what it would copy, from the first pass's shapes), one buffer per copy.
      expect(t.ready).toBe(nodeBlobs.size);
      // Such a trace is written and read back as any other.
      expectSameTrace(decodeTrace(encodeTrace(t.there), 'shared.exray'), t.here);
      const s = await bothWays(model, feed, 'stats');
      expect(s.sent).toBeGreaterThan(50);
      expect(s.there.blobs.size).toBe(1 + s.there.header.outputs.length);
      expectSameTrace(s.there, s.here);
      // And the stats trace's statistics are the tensors trace's.
      s.there.header.nodes.forEach((n, i) => n.outputs.forEach((o, k) => expect(o.stats, n.name).toStrictEqual(t.here.header.nodes[i]!.outputs[k]!.stats)));
      // After its second tensors capture the pool makes shared memory ready for the next one's copies
      // (pages touched on its own thread): that capture copies into it, and no earlier trace's values
      // are written over.
      expectSameTrace(await traceModel(model, feed, { capture: 'tensors', runs: 1, warmup: 0, statsPool: pool }), t.here);
      await pool.memoryReady();
      const readyBefore = pool.readyMemoryBytes;
      const nodeBytes = t.there.header.nodes.reduce((sum, n) => sum + n.outputs.reduce((b, o) => b + 4 * (o.blob?.length ?? 0), 0), 0);
      expect(readyBefore).toBeGreaterThanOrEqual(nodeBytes);
      const again = await traceModel(model, feed, { capture: 'tensors', runs: 1, warmup: 0, statsPool: pool });
      expect(readyBefore - pool.readyMemoryBytes).toBeGreaterThanOrEqual(nodeBytes);
      expectSameTrace(again, t.here);
      expectSameTrace(t.there, t.here);
    } finally {
      tf.dispose(Object.values(feed));
      model.dispose();
    }
  });

  it('MobileNetV2 layers model, tensors capture, copies into recycled buffers (BlobPool)', async () => {
    const name = 'nsfw-mobilenet-v2';
    const model = (await loadSample(name)).model;
    const x = toTensor(await photoFeed(name, 'chelsea.png'));
    const blobPool = new BlobPool();
    try {
      const first = await bothWays(model, x, 'tensors', { blobPool });
      expect(first.sent).toBeGreaterThan(100);
      expectSameTrace(first.there, first.here);
      // A consumer done with the first trace's blobs gives them back; the next capture copies into them
      // (after a round trip to a thread each) and still records the same trace.
      // (A buffer back from a thread is a new ArrayBuffer object over the same memory: the pool's count says it was taken.)
      const released = first.there.header.nodes.flatMap((n) => n.outputs.map((o) => first.there.blobs.get(o.blob!.id)!));
      blobPool.release(...released);
      expect(blobPool.heldBytes).toBeGreaterThan(80e6);
      const again = await traceModel(model, x, { capture: 'tensors', runs: 1, warmup: 0, statsPool: pool, blobPool });
      expect(blobPool.heldBytes).toBe(0);
      expectSameTrace(again, first.here);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('a stats capture over its in-flight limit computes the rest in the heap: same statistics', async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    const model = (await loadSample(name)).model;
    const f = await photoFeed(name, 'chelsea.png');
    const feed = { [f.name]: toTensor(f) };
    const runner = new Runner(model, feed);
    const capture = async (statsPool?: StatsPool, maxInFlightBytes?: number): Promise<(TensorStats | null)[]> => {
      const stats: (TensorStats | null)[] = [];
      const r = await capturePass(runner, 'wasm', (n) => stats.push(...(n.stats ?? [])), {
        borrow: true, stats: 32,
        ...(statsPool ? { statsPool } : {}),
        ...(maxInFlightBytes !== undefined ? { maxInFlightBytes } : {}),
      });
      tf.dispose(r.outputs);
      return stats;
    };
    try {
      const here = await capture();
      const sentBefore = pool.sent;
      const capped = await capture(pool, 4e6);
      const sent = pool.sent - sentBefore;
      // Some outputs went to the threads, the rest (beyond 4 MB in flight) were summarised here.
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(here.length / 2);
      expect(capped).toStrictEqual(here);
    } finally {
      tf.dispose(Object.values(feed));
      model.dispose();
    }
  });

  it('a statistics job that fails names the node and the failure, a consumer\'s error goes out unchanged, no tensor leaks', async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    const model = (await loadSample(name)).model;
    const f = await photoFeed(name, 'chelsea.png');
    const feed = { [f.name]: toTensor(f) };
    const broken: StatsPool = {
      stats: (): Promise<StatsResult> => Promise.reject(new Error('worker gone')),
      warm: () => undefined,
      close: () => Promise.resolve(),
    };
    try {
      const before = tf.memory().numTensors;
      await expect(traceModel(model, feed, { capture: 'tensors', runs: 1, warmup: 0, statsPool: broken })).rejects.toThrow(/statistics of .+'s output failed: worker gone/);
      expect(tf.memory().numTensors).toBe(before);
      // A consumer's own failure (the trace file cannot be written) goes out as it is, not as a statistics failure.
      const full = new Error('run.exray: cannot write (no space left on device, ENOSPC)');
      const onEvent = (e: { type: string }): void => {
        if (e.type === 'node') throw full;
      };
      await expect(traceModel(model, feed, { capture: 'tensors', runs: 1, warmup: 0, statsPool: pool, onEvent })).rejects.toBe(full);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose(Object.values(feed));
      model.dispose();
    }
  });
});

describe('a pool whose threads are sent each array (no shared memory)', () => {
  it('MobileNetV2 graph model, tensors capture: the same trace, its values moved there and back', async () => {
    await useBackend('wasm');
    const moving = new NodeStatsPool({ threads: 1, sharesMemory: false });
    const name = 'nsfw-mobilenet-v2-mid';
    const model = (await loadSample(name)).model;
    const f = await photoFeed(name, 'chelsea.png');
    const feed = { [f.name]: toTensor(f) };
    try {
      expect(await moving.whenReady()).toBe(true);
      expect(moving.sharesMemory).toBe(false);
      const opts = { capture: 'tensors' as const, runs: 1, warmup: 0 };
      const here = await traceModel(model, feed, opts);
      const there = await traceModel(model, feed, { ...opts, statsPool: moving });
      expect(moving.sent).toBeGreaterThan(50);
      for (const data of there.blobs.values()) expect(data.buffer instanceof SharedArrayBuffer).toBe(false);
      expectSameTrace(there, here);
    } finally {
      await moving.close();
      tf.dispose(Object.values(feed));
      model.dispose();
    }
  });
});

describe('memory: what goes to the pool is held until the run ends', () => {
  it('a tensors capture uses the pool only when all its kept values fit the in-flight bound; a stats capture always (it bounds itself)', () => {
    const over = STATS_POOL_IN_FLIGHT_BYTES + 4;
    expect(captureOptions('tensors', 32, { statsPool: pool }, 88e6)?.statsPool).toBe(pool);
    expect(captureOptions('tensors', 32, { statsPool: pool }, over)?.statsPool).toBeUndefined();
    expect(captureOptions('stats', 32, { statsPool: pool }, over)?.statsPool).toBe(pool);
  });
});

describe('cpu: the copies sent to threads are the trace\'s values (no second copy of the backend\'s arrays)', () => {
  it('emotion (layers model), tensors capture', async () => {
    await useBackend('cpu');
    const name = 'emotion';
    const model = (await loadSample(name)).model;
    const x = toTensor(await photoFeed(name, 'chelsea.png'));
    try {
      const t = await bothWays(model, x, 'tensors');
      expectSameTrace(t.there, t.here);
      expect(t.sent).toBeGreaterThan(0);
    } finally {
      x.dispose();
      model.dispose();
      await useBackend('wasm');
    }
  });
});
