/**
 * Tensor statistics (computeStats, the per-element cost of a `stats` / `tensors` capture): the wasm
 * SIMD kernels vs the JS loops, side by side in one run, on MobileNet-sized activations (ReLU6-like:
 * a third zeros), interleaved rounds, median ns per element.
 */
import { computeStats } from '../src/trace/stats.ts';
import { setStatsKernelsForTest, statsKernels } from '../src/trace/wasm/stats-simd.ts';
import type { BenchResult } from './types.ts';

export async function benchStats(rounds: number): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  if (!statsKernels()) return [{ name: 'stats SIMD kernel', value: 0, unit: 'unavailable in this runtime' }];
  for (const n of [112 * 112 * 32, 14 * 14 * 576]) {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.min(6, Math.max(0, Math.sin(i * 0.37) * 4 + ((i * 7919) % 13) * 0.2 - 2));
    const reps = Math.max(1, Math.round(1e7 / n));
    const t: Record<'js' | 'simd', number[]> = { js: [], simd: [] };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['js', 'simd'] as const) {
        setStatsKernelsForTest(mode === 'simd');
        computeStats(a);
        const t0 = performance.now();
        for (let k = 0; k < reps; k++) computeStats(a);
        t[mode].push(((performance.now() - t0) / reps / n) * 1e6);
      }
    }
    setStatsKernelsForTest(undefined);
    const med = (x: number[]): number => [...x].sort((p, q) => p - q)[x.length >> 1]!;
    out.push({ name: `stats JS loops, ${n} float32`, value: med(t.js), unit: 'ns/element' });
    out.push({ name: `stats wasm SIMD kernel, ${n} float32`, value: med(t.simd), unit: 'ns/element' });
    out.push({ name: `stats JS / SIMD, ${n} float32`, value: med(t.js) / med(t.simd), unit: 'ratio' });
  }
  return out;
}
