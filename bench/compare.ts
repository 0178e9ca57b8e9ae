/**
 * Benchmarks of the comparison engine (src/compare). Pure: runs in Node and in a browser; writes nothing.
 *
 * Throughput is reported two ways: GB/s counts the bytes read, 8 per element pair (a float32 from
 * each side); Mpairs/s counts element pairs. Each figure is the median of REPEATS timed runs after one
 * warm-up run.
 *
 * Anchors measured in the same run: a plain memory copy of both sides (the ceiling for any pass over
 * the data) and numpy computing the same sums, extrema and argmax over the same layout (python3 with
 * numpy, when installed; reported as unavailable otherwise).
 */

import { compareTraces } from '../src/compare/compare.ts';
import { tensorMetrics } from '../src/compare/metrics.ts';
import { compareKernel, setCompareKernelForTest } from '../src/compare/wasm/compare-simd.ts';
import { makeTrace, rng, type SyntheticNode } from '../src/compare/synthetic.ts';
import type { BenchResult } from './types.ts';

const PAIRS = 64 * 1024 * 1024;
const NODES = 100;
const REPEATS = 5;
const TRACE_NODES = 1000;
const TRACE_ELEMENTS = 16 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function timeMs(run: () => void): Promise<number> {
  run(); // warm-up (JIT)
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    await yieldToEventLoop();
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Edge = reference + float32-level relative noise, like two healthy backends. */
function makePair(n: number): { a: Float32Array; b: Float32Array } {
  const r = rng(42);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = 4 * r() - 2;
    b[i] = v;
    a[i] = v * (1 + 1e-6 * (r() - 0.5));
  }
  return { a, b };
}

let sink = 0; // keeps results alive so nothing is optimised away

export async function benchCompare(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const { a, b } = makePair(PAIRS);
  const throughput = (name: string, pairs: number, ms: number): void => {
    results.push({ name: `${name} throughput`, value: round((pairs * 8) / (ms / 1000) / 1e9, 3), unit: 'GB/s' });
    results.push({ name: `${name} pairs`, value: round(pairs / (ms / 1000) / 1e6, 1), unit: 'Mpairs/s' });
  };

  // Anchor: copying both sides once (read 8 bytes per pair, write 8).
  {
    const da = new Float32Array(PAIRS);
    const db = new Float32Array(PAIRS);
    const copyMs = await timeMs(() => {
      da.set(a);
      db.set(b);
      sink += (da[PAIRS - 1] as number) + (db[0] as number);
    });
    throughput(`anchor: memory copy of both sides, ${PAIRS} float32`, PAIRS, copyMs);
  }

  // 64 M pairs split across ~100 node outputs of a model.
  const per = Math.floor(PAIRS / NODES);
  results.push(...(await numpyAnchor(NODES, per, false)), ...(await numpyAnchor(NODES, per, true)));
  const views = Array.from({ length: NODES }, (_, i) => ({ a: a.subarray(i * per, (i + 1) * per), b: b.subarray(i * per, (i + 1) * per) }));
  const nodesMs = await timeMs(() => {
    for (const v of views) sink += tensorMetrics(v.a, v.b).rmse;
  });
  throughput(`tensorMetrics ${NODES} nodes x ${per} float32`, per * NODES, nodesMs);
  // The same on the JS lane pass (the fallback where wasm SIMD is unavailable, and Int32 tensors).
  if (compareKernel()) {
    setCompareKernelForTest(false);
    const jsMs = await timeMs(() => {
      for (const v of views) sink += tensorMetrics(v.a, v.b).rmse;
    });
    setCompareKernelForTest(undefined);
    throughput(`tensorMetrics JS lane pass ${NODES} nodes x ${per} float32`, per * NODES, jsMs);
  } else {
    results.push({ name: 'tensorMetrics wasm SIMD kernel', value: 0, unit: 'unavailable in this runtime' });
  }

  // One big tensor.
  const bigMs = await timeMs(() => {
    sink += tensorMetrics(a, b).rmse;
  });
  throughput(`tensorMetrics 1 tensor x ${PAIRS} float32`, PAIRS, bigMs);

  // compareTraces on a synthetic 1,000-node trace (tensors capture), end to end.
  const edgeNodes: SyntheticNode[] = [];
  const refNodes: SyntheticNode[] = [];
  for (let i = 0; i < TRACE_NODES; i++) {
    const o = i * TRACE_ELEMENTS;
    const name = `block_${i >> 3}/op_${i & 7}`;
    const inputs = i === 0 ? [] : [`block_${(i - 1) >> 3}/op_${(i - 1) & 7}`];
    edgeNodes.push({ name, op: 'Conv2D', inputs, outputs: [{ shape: [1, 16, 16, 64], data: a.subarray(o, o + TRACE_ELEMENTS) }] });
    refNodes.push({ name, op: 'Conv2D', inputs, outputs: [{ shape: [1, 16, 16, 64], data: b.subarray(o, o + TRACE_ELEMENTS) }] });
  }
  const probs = new Float32Array(1000).fill(0.001);
  const edge = makeTrace({ id: 'edge', nodes: edgeNodes, outputs: [{ name: 'probs', shape: [1, 1000], data: probs }] });
  const ref = makeTrace({ id: 'ref', nodes: refNodes, outputs: [{ name: 'probs', shape: [1, 1000], data: probs }] });
  const traceMs = await timeMs(() => {
    sink += compareTraces(edge, ref).counts.ok;
  });
  results.push({ name: `compareTraces ${TRACE_NODES} nodes x ${TRACE_ELEMENTS} float32`, value: round(traceMs, 1), unit: 'ms' });
  throughput(`compareTraces ${TRACE_NODES} nodes x ${TRACE_ELEMENTS} float32`, TRACE_NODES * TRACE_ELEMENTS, traceMs);

  // Bookkeeping overhead alone: 1,000 nodes of 16 elements.
  const tinyEdge = makeTrace({ nodes: edgeNodes.map((n, i) => ({ ...n, outputs: [{ shape: [16], data: a.subarray(i * 16, i * 16 + 16) }] })) });
  const tinyRef = makeTrace({ nodes: refNodes.map((n, i) => ({ ...n, outputs: [{ shape: [16], data: b.subarray(i * 16, i * 16 + 16) }] })) });
  const tinyMs = await timeMs(() => {
    sink += compareTraces(tinyEdge, tinyRef).counts.ok;
  });
  results.push({ name: `compareTraces ${TRACE_NODES} nodes x 16 float32 (overhead)`, value: round(tinyMs, 2), unit: 'ms' });

  if (sink === -1) results.push({ name: 'unreachable', value: sink, unit: '' });
  return results;
}

/**
 * numpy over the same layout (NODES tensors of `per` float32 pairs, same value distribution): the finite
 * mask, float64 Σ(a-b)², Σ|a-b|, Σab, Σa², Σb², argmax |a-b| and both sides' min / max per tensor, i.e.
 * what tensorMetrics computes, the idiomatic numpy way (one vectorised call per quantity). The data is
 * generated in Python (same distribution, not the same bits): throughput does not depend on the bits.
 */
async function numpyAnchor(nodes: number, per: number, mapped: boolean): Promise<BenchResult[]> {
  const name = `anchor: numpy ${nodes} nodes x ${per} float32${mapped ? ' (temporaries kept mapped)' : ''}`;
  const script = `
import sys, time
import numpy as np
nodes, per, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
r = np.random.default_rng(42)
b = (4 * r.random(nodes * per, dtype=np.float64) - 2).astype(np.float32)
a = (b * (1 + 1e-6 * (r.random(nodes * per) - 0.5))).astype(np.float32)
views = [(a[i * per:(i + 1) * per], b[i * per:(i + 1) * per]) for i in range(nodes)]
def metrics(x, y):
    fin = np.isfinite(x) & np.isfinite(y)
    if not fin.all():
        x, y = x[fin], y[fin]
    x64 = x.astype(np.float64)
    y64 = y.astype(np.float64)
    d = x64 - y64
    ad = np.abs(d)
    i = int(ad.argmax())
    return (d @ d, ad.sum(), x64 @ y64, x64 @ x64, y64 @ y64, ad[i], i, x.min(), x.max(), y.min(), y.max())
def run():
    for x, y in views:
        metrics(x, y)
run()
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    run()
    times.append(time.perf_counter() - t0)
times.sort()
print(times[len(times) // 2] * 1000)
`;
  const { spawnSync } = await import('node:child_process');
  // One BLAS thread: exray's pass is single-threaded, and OpenBLAS threads spinning on 2 shared cores
  // only slow numpy down.
  const env: Record<string, string | undefined> = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  // numpy's few-MB temporaries are mmap'd and unmapped by glibc on every call; the page faults cost
  // ~20× the arithmetic on this VM. `mapped` keeps them in the heap (numpy's compute speed alone).
  if (mapped) Object.assign(env, { MALLOC_MMAP_THRESHOLD_: '1000000000', MALLOC_TRIM_THRESHOLD_: '1000000000' });
  const r = spawnSync('python3', ['-c', script, String(nodes), String(per), String(REPEATS)], { encoding: 'utf8', env });
  const ms = Number(r.stdout.trim());
  if (r.status !== 0 || !(ms > 0)) {
    const why = r.error ? 'python3 not found' : (r.stderr.trim().split('\n').pop() ?? 'failed');
    return [{ name: `${name} throughput`, value: 0, unit: `unavailable (${why})` }];
  }
  return [
    { name: `${name} throughput`, value: round((nodes * per * 8) / (ms / 1000) / 1e9, 3), unit: 'GB/s' },
    { name: `${name} pairs`, value: round((nodes * per) / (ms / 1000) / 1e6, 1), unit: 'Mpairs/s' },
  ];
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
