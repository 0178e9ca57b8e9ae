/**
 * Body of a statistics Web Worker (stats-pool-web.ts): computeStats on each array it is sent, the
 * array transferred back with its statistics. Says `ready` once loaded, so the pool transfers nothing
 * to a worker that could not start.
 */
import { answerStats, type StatsFromWorker, type StatsToWorker } from '../../trace/stats-pool-threads.ts';

interface Scope {
  postMessage(m: StatsFromWorker, transfer: Transferable[]): void;
  addEventListener(type: 'message', f: (e: MessageEvent<StatsToWorker>) => void): void;
}

const scope = self as unknown as Scope;
scope.addEventListener('message', (e) => {
  const { reply, transfer } = answerStats(e.data);
  scope.postMessage(reply, transfer);
});
scope.postMessage({ ready: true }, []);
