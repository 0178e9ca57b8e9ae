/** Tracing overhead in the page, side by side (bench/overhead.ts), on one backend. */
import { measureOverhead, type CaptureWay } from '../../bench/overhead.ts';
import type { BenchResult } from '../../bench/types.ts';
import { Runner } from '../instrument/tfjs/index.ts';
import { tf, useBackend } from '../viewer/worker/backends.ts';
import { loadModel } from '../viewer/worker/load-model.ts';
import { WebReadyMemory } from '../viewer/worker/ready-memory-web.ts';
import { WebStatsPool } from '../viewer/worker/stats-pool-web.ts';
import { TENSORS_RING, WebStatsRing } from '../viewer/worker/stats-ring-web.ts';
import { fetchModel, inputPayload } from './payload.ts';
import type { BenchRequest } from './protocol.ts';

export async function runBench(req: BenchRequest): Promise<BenchResult[]> {
  await useBackend(req.backend, req.options);
  const model = await loadModel(await fetchModel(req.model));
  const input = inputPayload(req.input);
  const x = tf.tensor(input.data, input.shape, input.dtype);
  // The production way on cpu/wasm (run-job.ts): statistics on a stats ring's worker, polled as nodes
  // end; a tensors capture copies each output once, into the ring's memory, where the worker computes
  // its statistics. GPU captures read back after the run and use neither.
  const sync = req.backend === 'cpu' || req.backend === 'wasm';
  const memory = sync ? new WebReadyMemory() : undefined;
  const statsRing = sync ? WebStatsRing.open({ keep: TENSORS_RING.keep }) : null;
  // Beside it, statistics on Web Workers (the viewer's way for tensors captures until 2026-12-05,
  // whose rows then only reached the page after the run), without and with its memory made ready.
  const statsPool = sync ? new WebStatsPool() : undefined;
  const prepared = sync ? new WebStatsPool({ prefaults: true }) : undefined;
  try {
    for (const p of [statsPool, prepared]) if (p && !(await p.whenReady())) throw new Error('no statistics worker could start in this page');
    const graph = 'executeAsync' in model;
    const runner = new Runner(model, graph ? { [req.input.name]: x } : x);
    // Between samples, outside the timing, the memory for the next capture is made ready (an app's
    // idle time between captures; a trace makes it while its timing passes run: trace-model.ts). The
    // ring's kept arrays are the last sample's, dropped: the ring hands them out again (a page's run
    // has a ring of its own instead, grown and touched while its timing passes run).
    const settle = sync
      ? async (): Promise<void> => {
          statsRing?.recycle();
          await Promise.all([memory!.memoryReady(), prepared!.memoryReady(), statsRing?.memoryReady()]);
        }
      : undefined;
    const others: Record<string, CaptureWay> = statsPool && prepared && memory
      ? {
          ...(statsRing ? { 'statistics on the ring, copies in memory made ready (two copies: the page\'s way before the ring kept the values)': { memory, statsRing } } : {}),
          'statistics on this thread, copies in memory made ready (the page\'s way before 2026-12-05 evening)': { memory },
          'statistics on Web Workers (the page\'s way before 2026-12-05, rows after the run)': { statsPool },
          'statistics on Web Workers, their copies in memory made ready': { statsPool: prepared },
        }
      : {};
    const results = await measureOverhead(runner, req.backend, req.rounds, `browser ${req.model.name}/${req.backend}`, memory && (statsRing ? { memory: statsRing, statsRing } : { memory }), settle, others);
    if (statsRing) results.push({ name: `browser ${req.model.name}/${req.backend} statistics handed to the ring`, value: statsRing.submitted, unit: 'jobs' });
    if (statsRing) results.push({ name: `browser ${req.model.name}/${req.backend} outputs copied into the ring's memory`, value: statsRing.given, unit: 'arrays' });
    if (statsPool) results.push({ name: `browser ${req.model.name}/${req.backend} statistics workers`, value: statsPool.size, unit: 'threads' });
    return results;
  } finally {
    x.dispose();
    model.dispose();
    statsRing?.close();
    await Promise.all([memory?.close(), statsPool?.close(), prepared?.close()]);
  }
}
