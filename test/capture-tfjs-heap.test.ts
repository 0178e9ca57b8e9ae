/**
 * The TF.js capture on wasm reads node outputs where the backend keeps them: statistics computed in
 * place in the wasm heap, one copy per kept output, optionally into recycled buffers (BlobPool). The
 * trace must not change by a bit: every statistic equals computeStats of the stored blob on the JS
 * loops, and recycled buffers hold exactly what fresh ones do.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BlobPool, capturePass, Runner, traceModel } from '../src/instrument/tfjs/index.ts';
import type { WasmBackendLike } from '../src/instrument/tfjs/wasm-heap.ts';
import { computeStats } from '../src/trace/stats.ts';
import { heapOf, setStatsKernelsForTest } from '../src/trace/wasm/stats-simd.ts';
import type { BlobData, Trace, TensorStats } from '../src/trace/types.ts';
import { loadSample, photoFeed, tf, toTensor, useBackend } from './helpers.ts';

/** Statistics of `data` on the JS loops (what every trace held before the kernel read the heap). */
function jsStats(data: ArrayLike<number>): TensorStats {
  setStatsKernelsForTest(false);
  try {
    return computeStats(data);
  } finally {
    setStatsKernelsForTest(undefined);
  }
}

function expectSameBits(a: TensorStats | undefined, b: TensorStats, what: string): void {
  expect(a, what).toEqual(b);
  expect(Object.is(a!.mean, b.mean) && Object.is(a!.std, b.std), `${what}: mean/std bits`).toBe(true);
}

/** Every kept node output of `trace`: its stats are the JS loops' stats of its blob, bit for bit. */
function expectStatsOfBlobs(trace: Trace): number {
  let checked = 0;
  for (const n of trace.header.nodes) {
    n.outputs.forEach((o, k) => {
      const data = o.blob ? trace.blobs.get(o.blob.id) : undefined;
      if (!data) return;
      expectSameBits(o.stats, jsStats(data), `${n.name}:${k}`);
      checked++;
    });
  }
  return checked;
}

describe('wasm: statistics read in the TF.js heap, one copy per kept output', () => {
  const name = 'nsfw-mobilenet-v2-mid';
  let model: tf.GraphModel;
  let feed: Record<string, tf.Tensor>;

  beforeAll(async () => {
    await useBackend('wasm');
    model = (await loadSample(name)).model as tf.GraphModel;
    const f = await photoFeed(name, 'chelsea.png');
    feed = { [f.name]: toTensor(f) };
  });
  afterAll(() => {
    tf.dispose(Object.values(feed));
    model.dispose();
  });
  afterEach(() => setStatsKernelsForTest(undefined));

  it('tensors and stats traces: every statistic equals the JS loops on the stored values, bit for bit', async () => {
    const tensors = await traceModel(model, feed, { capture: 'tensors', runs: 1, warmup: 0 });
    expect(expectStatsOfBlobs(tensors)).toBe(tensors.header.nodes.length);
    // A stats trace keeps no values: its statistics (read in the heap) are the tensors trace's.
    const stats = await traceModel(model, feed, { capture: 'stats', runs: 1, warmup: 0 });
    expect(stats.blobs.size).toBe(tensors.blobs.size - tensors.header.nodes.length);
    stats.header.nodes.forEach((n, i) => n.outputs.forEach((o, k) => expectSameBits(o.stats, tensors.header.nodes[i]!.outputs[k]!.stats!, `${n.name}:${k}`)));
  });

  it('the kernel really reads the heap in place (no copy) once a capture has bound it', async () => {
    const r = await capturePass(new Runner(model, feed), 'wasm', () => {}, { borrow: true });
    tf.dispose(r.outputs);
    // Odd lengths and offsets: the kernel's four-lane body and the JS tail split differently.
    for (const n of [2048, 4099, 100_003]) {
      const t = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (i % 5 === 0 ? 0 : 3)));
      const view = (tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(t) as Float32Array;
      expect(heapOf(view), `heap view of ${n} values`).not.toBeNull();
      expectSameBits(computeStats(view), jsStats(view.slice()), `${n} values in the heap`);
      t.dispose();
    }
  });

  it('BlobPool: a second capture copies into the released buffers, with the same values as fresh ones', async () => {
    const pool = new BlobPool();
    const runner = new Runner(model, feed);
    const capture = async (p?: BlobPool): Promise<{ values: BlobData[]; stats: (TensorStats | null)[] }> => {
      const values: BlobData[] = [];
      const stats: (TensorStats | null)[] = [];
      const r = await capturePass(runner, 'wasm', (n) => {
        n.values.forEach((v, k) => {
          if (v) values.push(v as BlobData);
          stats.push(n.stats?.[k] ?? null);
        });
      }, { stats: 32, ...(p ? { pool: p } : {}) });
      tf.dispose(r.outputs);
      return { values, stats };
    };
    const fresh = await capture();
    const first = await capture(pool);
    pool.release(...first.values);
    expect(pool.heldBytes).toBe(first.values.reduce((s, v) => s + v.byteLength, 0));
    const second = await capture(pool);
    // Every buffer of the second capture is one of the first's (sizes repeat: all reused).
    const firstBuffers = new Set(first.values.map((v) => v.buffer));
    expect(second.values.every((v) => firstBuffers.has(v.buffer))).toBe(true);
    expect(pool.heldBytes).toBe(0);
    expect(second.values.length).toBe(fresh.values.length);
    second.values.forEach((v, i) => expect(Buffer.from(v.buffer).equals(Buffer.from(fresh.values[i]!.buffer)), `output ${i}`).toBe(true));
    expect(second.stats).toEqual(fresh.stats);
    // The capture's own statistics are those of the values it hands over.
    second.values.forEach((v, i) => expectSameBits(second.stats[i] ?? undefined, jsStats(v), `output ${i}`));
  });
});

describe('wasm LayersModel: statistics of every layer equal the JS loops on its stored values', () => {
  it('MobileNetV2 layers model, chelsea.png', async () => {
    await useBackend('wasm');
    const name = 'nsfw-mobilenet-v2';
    const model = (await loadSample(name)).model as tf.LayersModel;
    const x = toTensor(await photoFeed(name, 'chelsea.png'));
    try {
      const trace = await traceModel(model, x, { capture: 'tensors', runs: 1, warmup: 0 });
      expect(expectStatsOfBlobs(trace)).toBe(trace.header.nodes.length);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
