/**
 * Body of a statistics worker thread (stats-pool-node.ts): computeStats on each array it is sent,
 * the array transferred back with its statistics. Says `ready` once loaded, so the pool transfers
 * nothing to a thread that could not start.
 */
import { parentPort } from 'node:worker_threads';
import { answerStats, type StatsFromWorker, type StatsToWorker } from '../trace/stats-pool-threads.ts';

const port = parentPort!;
port.on('message', (m: StatsToWorker) => {
  const { reply, transfer } = answerStats(m);
  port.postMessage(reply, transfer);
});
port.postMessage({ ready: true } satisfies StatsFromWorker);
