/**
 * Body of the Web Worker that serves a StatsRing (stats-ring-web.ts): it receives the ring's shared
 * memory and computes each job's statistics there until the ring is closed (src/trace/stats-ring-worker.ts).
 */
import { serveStatsRing } from '../../trace/stats-ring-worker.ts';

interface Scope {
  addEventListener(type: 'message', f: (e: MessageEvent<WebAssembly.Memory>) => void): void;
}

(self as unknown as Scope).addEventListener('message', (e) => serveStatsRing(e.data));
