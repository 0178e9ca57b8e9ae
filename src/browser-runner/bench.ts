/** Tracing overhead in the page, side by side (bench/overhead.ts), on one backend. */
import { measureOverhead } from '../../bench/overhead.ts';
import type { BenchResult } from '../../bench/types.ts';
import { Runner } from '../instrument/tfjs/index.ts';
import { tf, useBackend } from '../viewer/worker/backends.ts';
import { loadModel } from '../viewer/worker/load-model.ts';
import { fetchModel, inputPayload } from './payload.ts';
import type { BenchRequest } from './protocol.ts';

export async function runBench(req: BenchRequest): Promise<BenchResult[]> {
  await useBackend(req.backend, req.options);
  const model = await loadModel(await fetchModel(req.model));
  const input = inputPayload(req.input);
  const x = tf.tensor(input.data, input.shape, input.dtype);
  try {
    const graph = 'executeAsync' in model;
    const runner = new Runner(model, graph ? { [req.input.name]: x } : x);
    return await measureOverhead(runner, req.backend, req.rounds, `browser ${req.model.name}/${req.backend}`);
  } finally {
    x.dispose();
    model.dispose();
  }
}
