/**
 * Tracing overhead, measured side by side: every round runs each variant once, in rotating order, so
 * machine noise hits all variants alike; ratios are of medians. Pure (no Node, no DOM): the Node bench
 * and the browser bench page run exactly this.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { BlobPool, capturePass, isGraphModel, Runner, timingPass } from '../src/instrument/tfjs/index.ts';
import { computeStats, DEFAULT_HISTOGRAM_BINS } from '../src/trace/stats.ts';
import type { BlobData } from '../src/trace/types.ts';
import type { BenchResult } from './types.ts';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function measureOverhead(runner: Runner, backend: string, rounds: number, tag: string): Promise<BenchResult[]> {
  const readOut = async (outs: tf.Tensor[]): Promise<void> => {
    await Promise.all(outs.map((o) => o.data()));
    tf.dispose(outs);
  };
  const pool = new BlobPool();
  const variants: Record<string, () => Promise<void>> = {
    plain: async () => readOut(await runner.run()),
    'tf.profile': async () => {
      const info = await tf.profile(async () => runner.run());
      await readOut(info.result as tf.Tensor[]);
    },
    'timing capture': async () => readOut((await timingPass(runner)).outputs),
    'capture read-back only (no stats)': async () => {
      const kept: ArrayLike<number>[] = [];
      const r = await capturePass(runner, backend, (n) => {
        for (const v of n.values) if (v) kept.push(v);
      });
      await readOut(r.outputs);
    },
    'stats capture': async () => {
      const r = await capturePass(runner, backend, (n) => {
        for (const v of n.values) if (v) computeStats(v);
      }, { borrow: true });
      await readOut(r.outputs);
    },
    // As streamModel captures `tensors`: statistics where the values lie (the pass computes them on
    // cpu/wasm; GPU values are read after the run), one copy of every node's values kept.
    'tensors capture': async () => {
      const kept: ArrayLike<number>[] = [];
      const r = await capturePass(runner, backend, (n) => {
        n.values.forEach((v, k) => {
          if (!v) return;
          if (!n.stats?.[k]) computeStats(v);
          kept.push(v);
        });
      }, { stats: DEFAULT_HISTOGRAM_BINS });
      await readOut(r.outputs);
    },
    // The same, for a consumer that gives each blob back once it is written or sent (BlobPool): the
    // copies go into the previous capture's buffers instead of fresh memory.
    'tensors capture, buffers recycled': async () => {
      const kept: ArrayLike<number>[] = [];
      const r = await capturePass(runner, backend, (n) => {
        n.values.forEach((v, k) => {
          if (!v) return;
          if (!n.stats?.[k]) computeStats(v);
          kept.push(v);
        });
      }, { stats: DEFAULT_HISTOGRAM_BINS, pool });
      await readOut(r.outputs);
      pool.release(...kept.filter((v): v is BlobData => v instanceof Float32Array || v instanceof Int32Array));
    },
  };
  if (isGraphModel(runner.model)) {
    // The anchor: TF.js's own way of keeping every node's output.
    const graph = runner.model as GraphModel;
    const keepIntermediate = (readBack: boolean) => async () => {
      tf.env().set('KEEP_INTERMEDIATE_TENSORS', true);
      try {
        await readOut(await runner.run());
        if (readBack) for (const ts of Object.values(graph.getIntermediateTensors())) await Promise.all(ts.map((t) => t.data()));
        graph.disposeIntermediateTensors();
      } finally {
        tf.env().set('KEEP_INTERMEDIATE_TENSORS', false);
      }
    };
    variants['KEEP_INTERMEDIATE_TENSORS (kept, no read-back)'] = keepIntermediate(false);
    variants['KEEP_INTERMEDIATE_TENSORS + read-back'] = keepIntermediate(true);
  }
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await variants[n]!(); // warm every path once
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(r + j) % names.length]!;
      const t0 = performance.now();
      await variants[n]!();
      samples[n]!.push(performance.now() - t0);
    }
  }
  const base = median(samples.plain!);
  const results: BenchResult[] = [{ name: `${tag} plain inference median`, value: base, unit: 'ms' }];
  for (const n of names) if (n !== 'plain') results.push({ name: `${tag} ${n} / plain`, value: median(samples[n]!) / base, unit: 'ratio' });
  return results;
}
