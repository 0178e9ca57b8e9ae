/**
 * Body of a statistics worker thread (stats-pool-node.ts): computeStats on each array it is sent,
 * the array transferred back with its statistics. Says `ready` once loaded, so the pool transfers
 * nothing to a thread that could not start.
 */
import { parentPort } from 'node:worker_threads';
import { computeStats } from '../trace/stats.ts';
import type { StatsFromWorker, StatsToWorker } from './stats-pool-node.ts';

const port = parentPort!;
port.on('message', (m: StatsToWorker) => {
  let reply: StatsFromWorker;
  try {
    reply = { id: m.id, stats: computeStats(m.data, m.bins), data: m.data };
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? e.message : String(e), data: m.data };
  }
  port.postMessage(reply, [m.data.buffer as ArrayBuffer]);
});
port.postMessage({ ready: true } satisfies StatsFromWorker);
