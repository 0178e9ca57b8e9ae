/** Tracing overhead on real models in Node (the variants: bench/overhead.ts). */
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { tf, useBackend, type NodeBackend } from '../src/reference/tfjs-backend.ts';
import { loadTfjsModelFromDir } from '../src/models/load-node.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { Runner } from '../src/instrument/tfjs/index.ts';
import { NodeStatsPool } from '../src/reference/stats-pool-node.ts';
import { measureOverhead } from './overhead.ts';
import { fullGc } from '../src/reference/gc-node.ts';
import type { BenchResult } from './types.ts';

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
  // As exray trace / reference run it (src/reference/trace-node.ts): threads up before the rounds.
  const statsPool = new NodeStatsPool();
  // The pool as it was until 2026-12-05: a thread per core (the inference's core included), each array
  // transferred to a thread and back.
  const cores = availableParallelism();
  const before = new NodeStatsPool({ threads: Math.min(4, cores), sharesMemory: false });
  // The pool as it was until 2026-12-05's second change: shared memory allocated as each copy is made,
  // its pages faulted by the inference thread.
  const unprepared = new NodeStatsPool({ prefaults: false });
  try {
    if (!(await statsPool.whenReady()) || !(await before.whenReady()) || !(await unprepared.whenReady())) throw new Error('bench: no statistics worker thread could start');
    const gc = fullGc();
    if (!gc) throw new Error('bench: no full garbage collection available in this Node (--expose-gc)');
    const tag = `${opts.model}/${opts.backend}`;
    const settle = async (): Promise<void> => {
      await statsPool.memoryReady();
      gc();
    };
    const results = await measureOverhead(runner, opts.backend, opts.rounds, tag, { statsPool }, settle, {
      [`before (statistics on ${before.size} threads, arrays moved there and back)`]: { statsPool: before },
      'before (shared memory allocated as each copy is made, no pages made ready)': { statsPool: unprepared },
    });
    results.push({ name: `${tag} statistics threads (the default pool)`, value: statsPool.size, unit: 'threads' });
    return results;
  } finally {
    await statsPool.close();
    await before.close();
    await unprepared.close();
    x.dispose();
    model.dispose();
  }
}
