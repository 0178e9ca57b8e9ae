/**
 * Tracing overhead, measured side by side: every round runs each variant once, in a fresh order (round-order.ts), so
 * machine noise hits all variants alike; ratios are of medians. Pure (no Node, no DOM): the Node bench
 * and the browser bench page run exactly this.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { BlobPool, captureOptions, capturePass, isGraphModel, Runner, timingPass, type TraceModelOptions } from '../src/instrument/tfjs/index.ts';
import { computeStats, DEFAULT_HISTOGRAM_BINS } from '../src/trace/stats.ts';
import type { BlobData } from '../src/trace/types.ts';
import type { BenchResult } from './types.ts';
import { roundOrder } from './round-order.ts';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Where a capture computes statistics and makes its copies (TraceModelOptions). */
export type CaptureWay = Pick<TraceModelOptions, 'statsPool' | 'memory' | 'statsRing'>;

/**
 * `production`: how production captures in this environment (Node: a NodeStatsPool, its threads up
 * before the rounds; the page: a stats ring, whose worker computes the statistics where each copy
 * lies in its memory); without it only the "before" (this-thread, new arrays) captures run.
 * `settle`: called before every timed sample, outside the timing (Node: a full garbage collection).
 * Without it a sample also pays for the garbage the previous variant left (a tensors capture drops
 * 40–90 MB), whichever variant it is: with a rotating order that always hit the same variant, with a
 * shuffled one it hits most samples of every cheap variant (the timing pass measured 1.11–1.21× in
 * the bench against 1.02–1.03× alone). A variant still pays for its own allocations. Node and the page
 * also wait there for the statistics pool's memory to be made ready for the next capture (an app's
 * idle time between captures; a trace makes it while its timing passes run: src/trace/ready-memory.ts).
 */
export async function measureOverhead(
  runner: Runner,
  backend: string,
  rounds: number,
  tag: string,
  production?: CaptureWay,
  settle?: () => void | Promise<void>,
  /** Other ways to run the `tensors` capture, side by side (variant name suffix → way). */
  others: Record<string, CaptureWay> = {},
): Promise<BenchResult[]> {
  const statsPool = production?.statsPool;
  const readOut = async (outs: tf.Tensor[]): Promise<void> => {
    await Promise.all(outs.map((o) => o.data()));
    tf.dispose(outs);
  };
  const pool = new BlobPool();
  /**
   * One capture pass as streamModel runs it, the node records made as tensorRecord makes them: values
   * kept to the end of the capture (a trace holds them), statistics computed where the pass gave none;
   * with a BlobPool the kept values are released afterwards (a consumer done with them).
   */
  const capture = (mode: 'stats' | 'tensors', opts: Pick<TraceModelOptions, 'blobPool' | 'statsPool' | 'memory' | 'statsRing'>) => async (): Promise<void> => {
    const kept: BlobData[] = [];
    const r = await capturePass(runner, backend, (n) => {
      n.values.forEach((v, k) => {
        if (!v) return;
        if (mode === 'stats' && n.stats?.[k]) return;
        if (!n.stats?.[k]) computeStats(v);
        if (mode === 'tensors' && (v instanceof Float32Array || v instanceof Int32Array)) kept.push(v);
      });
    }, captureOptions(mode, DEFAULT_HISTOGRAM_BINS, opts));
    await readOut(r.outputs);
    opts.blobPool?.release(...kept);
  };
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
    // As streamModel captures (captureOptions): `stats` keeps statistics only, `tensors` also every
    // node's values. "before": statistics on this thread, in the wasm heap, as each node ends, each
    // copy in a new array (what a trace did before a StatsPool); the others as `production` (Node: each
    // copy to worker threads while the run goes on, as exray trace / reference do; the page: statistics
    // on a stats ring's worker, each copy made once, into the ring's memory).
    'stats capture, before (statistics on this thread)': capture('stats', {}),
    'tensors capture, before (statistics on this thread)': capture('tensors', {}),
    // A consumer that gives each blob back once it is written or sent (BlobPool): the copies go into
    // the previous capture's buffers instead of fresh memory.
    'tensors capture, buffers recycled, before (statistics on this thread)': capture('tensors', { blobPool: pool }),
  };
  if (production) variants['tensors capture'] = capture('tensors', production);
  if (statsPool) {
    variants['stats capture, statistics on the stats pool'] = capture('stats', { statsPool });
    variants['stats capture, statistics on the stats pool, buffers recycled'] = capture('stats', { statsPool, blobPool: pool });
    // (Without a pool, buffers recycled is the "before" variant above: a BlobPool's buffers replace ready memory.)
    variants['tensors capture, buffers recycled'] = capture('tensors', { statsPool, blobPool: pool });
  }
  // The page's stats captures hand their statistics to the same ring as its tensors captures.
  if (production?.statsRing) variants['stats capture, statistics on the ring'] = capture('stats', { statsRing: production.statsRing });
  for (const [suffix, other] of Object.entries(others)) variants[`tensors capture, ${suffix}`] = capture('tensors', other);
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
    for (const n of roundOrder(names, r)) {
      await settle?.();
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
