/**
 * Statistics of captured ONNX values off the reading thread (src/reference/stats-pool-node.ts): a capture
 * through the worker pool gives the same trace, bit for bit, as one computing every statistic on the
 * calling thread; the pool moves arrays without copying and hands them back intact; and the values
 * of a run are taken from the runtime without a second copy only where the array is the runtime's own.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelCard } from '../src/models/card.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { traceOnnx, tensorValues, type OrtModule, type OrtTensor } from '../src/instrument/ort/index.ts';
import { NodeStatsPool } from '../src/reference/stats-pool-node.ts';
import { readPassNodes } from '../src/instrument/ort/capture-read.ts';
import type { OnnxGraphInfo, OnnxNode } from '../src/onnx/model.ts';
import type { TensorRecord } from '../src/trace/types.ts';
import { computeStats } from '../src/trace/stats.ts';
import type { BlobData, Trace } from '../src/trace/types.ts';
import { CLS, cropRgba, firstTextLine, PAGE } from './ort-helpers.ts';

const pool = new NodeStatsPool({ threads: 2 });

/** Same type and the same bytes (a deep equality over every element is far slower on ~100 blobs). */
function sameBits(a: BlobData, b: BlobData): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
// Threads up before the first trace: until then the pool computes on the calling thread (by design).
beforeAll(async () => expect(await pool.whenReady()).toBe(true), 60_000);
afterAll(() => pool.close());

async function traceCls(statsPool?: NodeStatsPool): Promise<Trace> {
  const card = await loadModelCard(join(CLS, 'exray.json'));
  const t = preprocess(await cropRgba(PAGE, await firstTextLine(PAGE)), 1, card.inputs[0]!.preprocess!);
  const bytes = new Uint8Array(await readFile(join(CLS, 'model.onnx')));
  return traceOnnx(ort as unknown as OrtModule, bytes, [{ name: 'x', shape: t.shape, dtype: 'float32', data: t.data }], {
    runtime: 'onnxruntime-node',
    executionProvider: 'cpu',
    profiler: null,
    sessionOptions: { intraOpNumThreads: 1 },
    capture: 'tensors',
    runs: 1,
    warmup: 0,
    ...(statsPool ? { statsPool } : {}),
  });
}

describe('captured values summarised on worker threads', () => {
  it('gives the same node records and blobs as statistics on the calling thread', async () => {
    const here = await traceCls();
    const sentBefore = pool.sent;
    const there = await traceCls(pool);
    // The pool did take work off the thread: the classifier has outputs of 27,648 elements and more.
    expect(pool.sent - sentBefore).toBeGreaterThan(20);
    expect(there.header.nodes.length).toBe(here.header.nodes.length);
    expect(there.header.nodes.filter((n) => n.outputs.some((o) => o.stats)).length).toBeGreaterThan(50);
    for (const [i, n] of there.header.nodes.entries()) {
      const m = here.header.nodes[i]!;
      expect(n.name).toBe(m.name);
      // toStrictEqual: every number, histogram count and NaN alike; blob ids are per process, values are not.
      expect(n.outputs.map((o) => o.stats)).toStrictEqual(m.outputs.map((o) => o.stats));
      for (const [k, o] of n.outputs.entries()) {
        const want = m.outputs[k]!.blob;
        expect(o.blob === undefined).toBe(want === undefined);
        if (o.blob && want) expect(sameBits(there.blobs.get(o.blob.id)!, here.blobs.get(want.id)!), n.name).toBe(true);
      }
    }
    expect(there.blobs.size).toBe(here.blobs.size);
  });

  it('moves arrays to the threads and back intact, and keeps small ones on the calling thread', async () => {
    const big = Float32Array.from({ length: 100_003 }, (_, i) => Math.sin(i) * (i % 7 === 0 ? 0 : 3));
    const expected = { stats: computeStats(big, 16), copy: big.slice() };
    const small = Int32Array.from([3, -1, 4, 1, 5]);
    const sent = pool.sent;
    const [a, b] = await Promise.all([pool.stats(big, 16), pool.stats(small, 16)]);
    expect(big.length).toBe(0); // transferred, not copied
    expect(a!.data).toStrictEqual(expected.copy);
    expect(a!.stats).toStrictEqual(expected.stats);
    expect(b!.data).toBe(small);
    expect(b!.stats).toStrictEqual(computeStats(small, 16));
    expect(pool.sent - sent).toBe(1);
  });

  it('reads an array in shared memory where it lies: nothing moved, the same array back', async () => {
    const big = new Float32Array(new SharedArrayBuffer(4 * 100_003));
    big.forEach((_, i) => (big[i] = Math.cos(i) * (i % 5 === 0 ? 0 : 2)));
    const expected = { stats: computeStats(big, 16), copy: big.slice() };
    const sent = pool.sent;
    const got = await pool.stats(big, 16);
    expect(pool.sent - sent).toBe(1);
    expect(got.data).toBe(big);
    expect(big).toStrictEqual(expected.copy);
    expect(got.stats).toStrictEqual(expected.stats);
  });
});

describe('a pool whose threads cannot start', () => {
  it('computes on the calling thread and loses no values', async () => {
    const broken = new NodeStatsPool({ threads: 2, workerUrl: new URL('./no-such-stats-worker.mjs', import.meta.url) });
    const arrays = [0, 1, 2].map((j) => Float32Array.from({ length: 20_000 }, (_, i) => Math.cos(i + j)));
    const copies = arrays.map((a) => a.slice());
    const got = await Promise.all(arrays.map((a) => broken.stats(a, 32)));
    expect(got.map((g) => g.data)).toStrictEqual(copies);
    expect(got.map((g) => g.stats)).toStrictEqual(copies.map((c) => computeStats(c, 32)));
    expect(broken.sent).toBe(0);
    expect(await broken.whenReady()).toBe(false);
    await broken.close();
  });
});

describe('reading a run whose two outputs share one buffer', () => {
  it('moves that buffer to a thread once and copies it for the other output', async () => {
    const shared = Float32Array.from({ length: 40_000 }, (_, i) => (i % 11) - 5);
    const want = computeStats(shared, 32);
    const t = (): OrtTensor => ({ type: 'float32', dims: [shared.length], location: 'cpu', data: shared, dispose: () => undefined }) as unknown as OrtTensor;
    const node = (name: string, out: string): OnnxNode => ({ position: 0, name, protoName: name, op: 'Identity', domain: '', inputs: ['x'], outputs: [out], producers: [] }) as unknown as OnnxNode;
    const info = { valueTypes: new Map(), outputs: [] } as unknown as OnnxGraphInfo;
    const captured = new Map<string, (TensorRecord | undefined)[]>();
    const order: string[] = [];
    await readPassNodes([node('a', 'va'), node('b', 'vb')], { va: t(), vb: t() }, null, {
      info, graphOutputs: new Set(), measured: new Map(), captured, notes: new Map(), bins: 32, pool,
      record: (_n, _k, v, stats) => ({ shape: v.shape, dtype: v.dtype, ...(stats ? { stats } : {}) }),
      onRead: (n) => order.push(n.name),
    });
    expect(order).toEqual(['a', 'b']);
    expect(captured.get('a')![0]!.stats).toStrictEqual(want);
    expect(captured.get('b')![0]!.stats).toStrictEqual(want);
  });
});

describe('taking a run output without a second copy', () => {
  const tensor = (data: Float32Array): OrtTensor => ({ type: 'float32', dims: [data.length], location: 'cpu', data }) as unknown as OrtTensor;
  it('uses an array that is its buffer, copies a view into a larger one', () => {
    const own = Float32Array.of(1, 2, 3);
    expect(tensorValues(tensor(own), true).data).toBe(own);
    expect(tensorValues(tensor(own)).data).not.toBe(own);
    const heap = new Float32Array(16).fill(7);
    const view = heap.subarray(4, 7);
    const taken = tensorValues(tensor(view), true).data!;
    expect(taken).not.toBe(view);
    expect(taken.buffer).not.toBe(heap.buffer);
    expect([...taken]).toEqual([7, 7, 7]);
  });
});
