/** Tracing overhead in the page, side by side (bench/overhead.ts), on one backend. */
import { measureOverhead } from '../../bench/overhead.ts';
import type { BenchResult } from '../../bench/types.ts';
import { Runner } from '../instrument/tfjs/index.ts';
import { tf, useBackend } from '../viewer/worker/backends.ts';
import { loadModel } from '../viewer/worker/load-model.ts';
import { WebStatsPool } from '../viewer/worker/stats-pool-web.ts';
import { fetchModel, inputPayload } from './payload.ts';
import type { BenchRequest } from './protocol.ts';

export async function runBench(req: BenchRequest): Promise<BenchResult[]> {
  await useBackend(req.backend, req.options);
  const model = await loadModel(await fetchModel(req.model));
  const input = inputPayload(req.input);
  const x = tf.tensor(input.data, input.shape, input.dtype);
  // The production way on cpu/wasm (run-job.ts): statistics on Web Workers, up before the rounds. GPU
  // captures read back after the run and never use it.
  const statsPool = req.backend === 'cpu' || req.backend === 'wasm' ? new WebStatsPool() : undefined;
  // The same with the copies' memory made ready on a worker of its own (opt-in, not yet the viewer's:
  // stats-pool-web.ts `prefaults`).
  const prepared = statsPool ? new WebStatsPool({ prefaults: true }) : undefined;
  try {
    if (statsPool && !(await statsPool.whenReady())) throw new Error('no statistics worker could start in this page');
    if (prepared && !(await prepared.whenReady())) throw new Error('no statistics worker could start in this page');
    const graph = 'executeAsync' in model;
    const runner = new Runner(model, graph ? { [req.input.name]: x } : x);
    // Between samples, outside the timing, that pool's memory for the next capture is made ready (an
    // app's idle time between captures; a trace makes it while its timing passes run: trace-model.ts).
    const settle = prepared ? (): Promise<void> => prepared.memoryReady() : undefined;
    const others: Record<string, WebStatsPool> = prepared ? { 'memory made ready on a worker (opt-in, not the viewer\'s default)': prepared } : {};
    const results = await measureOverhead(runner, req.backend, req.rounds, `browser ${req.model.name}/${req.backend}`, statsPool, settle, others);
    if (statsPool) results.push({ name: `browser ${req.model.name}/${req.backend} statistics workers`, value: statsPool.size, unit: 'threads' });
    return results;
  } finally {
    x.dispose();
    model.dispose();
    await statsPool?.close();
    await prepared?.close();
  }
}
