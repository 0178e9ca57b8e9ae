/**
 * A StatsPool of Web Workers (the scheduling: src/trace/stats-pool-threads.ts, shared with the Node
 * pool): started from the trace worker (nested dedicated module workers) or the page, each fed
 * transferred arrays, so an ONNX capture's statistics are computed off the inference thread;
 * with `prefaults`, the arrays a capture copies into are made ready on a worker of their own
 * (ready-memory-web.ts).
 * Where no worker can start (no Worker, a blocked script), the calling thread computes them.
 */
import { ThreadStatsPool, type StatsFromWorker, type StatsThread, type StatsThreadEvents } from '../../trace/stats-pool-threads.ts';
import { WebReadyMemory } from './ready-memory-web.ts';

export interface WebStatsPoolOptions {
  /** Workers (default: min(4, hardwareConcurrency - 1), at least 1: the inference thread keeps a core). */
  threads?: number;
  /** Arrays shorter than this are done on the calling thread (default 16,384 elements). */
  minElements?: number;
  /** The worker's script (default stats-worker-web.ts, bundled by Vite; tests give a missing one). */
  workerUrl?: URL;
  /**
   * The copies' memory is made ready, pages touched, on a worker of its own while the timing passes
   * run and between captures (ready-memory-web.ts); default false: allocated as each copy is made.
   * The viewer's pool serves ONNX captures; its TF.js captures hand statistics to a stats ring and
   * copy into a WebReadyMemory (run-job.ts).
   */
  prefaults?: boolean;
  /** The memory worker's script (default memory-worker-web.ts; tests give a missing one). */
  memoryWorkerUrl?: URL;
}

export function defaultStatsThreads(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, cores - 1));
}

export class WebStatsPool extends ThreadStatsPool {
  private readonly url: URL | undefined;
  private readonly tick: MessageChannel | undefined;
  private readonly ticks: (() => void)[] = [];

  constructor(options: WebStatsPoolOptions = {}) {
    super({ threads: options.threads ?? defaultStatsThreads(), ...(options.minElements !== undefined ? { minElements: options.minElements } : {}) });
    this.url = options.workerUrl;
    if (options.prefaults === true) this.memory = new WebReadyMemory(options.memoryWorkerUrl ? { workerUrl: options.memoryWorkerUrl } : {});
    if (typeof MessageChannel !== 'undefined') {
      // A message to ourselves is a task without setTimeout's 4 ms clamp on nested timers.
      this.tick = new MessageChannel();
      this.tick.port1.onmessage = () => this.ticks.shift()?.();
    }
  }

  protected spawn(events: StatsThreadEvents): StatsThread | null {
    if (typeof Worker === 'undefined') return null;
    // Vite bundles the worker only from this literal form.
    const worker = this.url
      ? new Worker(this.url, { type: 'module', name: 'exray-stats' })
      : new Worker(new URL('./stats-worker-web.ts', import.meta.url), { type: 'module', name: 'exray-stats' });
    worker.addEventListener('message', (e: MessageEvent<StatsFromWorker>) => events.message(e.data));
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      events.gone(e.message || 'could not load or failed');
    });
    worker.addEventListener('messageerror', () => events.gone('a message could not be read'));
    return {
      post: (m, transfer) => worker.postMessage(m, transfer),
      terminate: () => Promise.resolve(worker.terminate()),
      hold: () => undefined,
    };
  }

  protected later(f: () => void): void {
    if (!this.tick) {
      setTimeout(f, 0);
      return;
    }
    this.ticks.push(f);
    this.tick.port2.postMessage(null);
  }
}

let shared: WebStatsPool | undefined;

/**
 * One pool for this thread (a trace worker runs one job and is terminated with its nested workers;
 * the page's main-thread runs reuse it), started on the first capture.
 */
export function sharedWebStatsPool(): WebStatsPool {
  shared ??= new WebStatsPool();
  return shared;
}
