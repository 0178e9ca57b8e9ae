/**
 * Tracing overhead on real models in Node, measured side by side: every round runs each variant once,
 * in rotating order, so machine noise hits all variants alike. Ratios are of medians.
 */
import { join } from 'node:path';
import { tf, useBackend, type NodeBackend } from '../src/reference/tfjs-backend.ts';
import { loadTfjsModelFromDir } from '../src/models/load-node.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { capturePass, Runner, timingPass } from '../src/instrument/tfjs/index.ts';
import { computeStats } from '../src/trace/stats.ts';
import type { BenchResult } from './types.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function time(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

export interface TracingBenchOptions {
  model: string;
  backend: NodeBackend;
  rounds: number;
  image: string;
}

export async function benchTracing(opts: TracingBenchOptions): Promise<BenchResult[]> {
  await useBackend(opts.backend);
  const dir = join('models', opts.model);
  const card = await loadModelCard(join(dir, 'exray.json'));
  const spec = card.inputs[0]?.preprocess;
  if (!spec) throw new Error(`${opts.model}: card has no image input`);
  const { image, source } = await decodeImageFile(opts.image);
  const pre = preprocess(image, source.exifOrientation, spec);
  const { model, format } = await loadTfjsModelFromDir(dir, tf);
  const x = tf.tensor(pre.data, pre.shape, pre.dtype === 'int32' ? 'int32' : 'float32');
  const runner = new Runner(model, format === 'tfjs-graph' ? { [card.inputs[0]!.name]: x } : x);
  const readOut = async (outs: tf.Tensor[]): Promise<void> => {
    await Promise.all(outs.map((o) => o.data()));
    tf.dispose(outs);
  };

  const variants: Record<string, () => Promise<void>> = {
    plain: async () => readOut(await runner.run()),
    'tf.profile': async () => {
      const info = await tf.profile(async () => runner.run());
      await readOut(info.result as tf.Tensor[]);
    },
    'timing capture': async () => readOut((await timingPass(runner)).outputs),
    'stats capture': async () => {
      const r = await capturePass(
        runner,
        opts.backend,
        (n) => {
          for (const v of n.values) if (v) computeStats(v);
        },
        { borrow: true },
      );
      await readOut(r.outputs);
    },
    'capture read-back only (no stats)': async () => {
      const kept: ArrayLike<number>[] = [];
      const r = await capturePass(runner, opts.backend, (n) => {
        for (const v of n.values) if (v) kept.push(v);
      });
      await readOut(r.outputs);
    },
    'tensors capture': async () => {
      const kept: ArrayLike<number>[] = [];
      const r = await capturePass(runner, opts.backend, (n) => {
        for (const v of n.values) {
          if (!v) continue;
          computeStats(v);
          kept.push(v);
        }
      });
      await readOut(r.outputs);
    },
  };
  if (format === 'tfjs-graph') {
    // The anchor: TF.js's own way of keeping every node's output.
    const graph = model as tf.GraphModel;
    const keepIntermediate = (readBack: boolean) => async () => {
      tf.env().set('KEEP_INTERMEDIATE_TENSORS', true);
      try {
        await readOut(await runner.run());
        if (readBack) for (const ts of Object.values(graph.getIntermediateTensors())) for (const t of ts) t.dataSync();
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
  for (let r = 0; r < opts.rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(r + j) % names.length]!;
      samples[n]!.push(await time(variants[n]!));
    }
  }
  x.dispose();
  model.dispose();
  const base = median(samples.plain!);
  const tag = `${opts.model}/${opts.backend}`;
  const results: BenchResult[] = [{ name: `${tag} plain inference median`, value: base, unit: 'ms' }];
  for (const n of names) {
    if (n === 'plain') continue;
    results.push({ name: `${tag} ${n} / plain`, value: median(samples[n]!) / base, unit: 'ratio' });
  }
  return results;
}
