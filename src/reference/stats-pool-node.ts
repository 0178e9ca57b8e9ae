/**
 * A StatsPool of Node worker threads (the scheduling: src/trace/stats-pool-threads.ts). A thread that
 * cannot start (no tsx, a bundle without the worker file) leaves its jobs to the calling thread. Idle
 * threads are unreferenced: a pool that was never closed does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ThreadStatsPool, type StatsFromWorker, type StatsThread, type StatsThreadEvents } from '../trace/stats-pool-threads.ts';
import { NodeReadyMemory } from './ready-memory-node.ts';

export type { StatsFromWorker, StatsToWorker } from '../trace/stats-pool-threads.ts';

const WORKER_URL = new URL('./stats-worker-boot.mjs', import.meta.url);

export interface NodeStatsPoolOptions {
  /**
   * Worker threads (default: the machine's parallelism less one, the inference thread's, at least 1
   * and at most 4). With as many threads as cores they took the inference's core: on 2 cores a
   * MobileNetV2 graph model tensors capture ran 1.38× a plain run with 2 threads, 1.22× with 1.
   */
  threads?: number;
  /** Arrays shorter than this are done on the calling thread (default 16,384 elements). */
  minElements?: number;
  /**
   * Copies for the pool go to shared memory and are read there (default true); false: each array is
   * transferred to a thread and back (what the pool did before; benchmarks compare the two).
   */
  sharesMemory?: boolean;
  /**
   * With sharesMemory: the copies' shared memory is made ready, pages touched, on a thread of its own
   * while the timing passes run and between captures (ready-memory-node.ts; default true); false:
   * allocated as each copy is made.
   */
  prefaults?: boolean;
  /** The thread's entry (default stats-worker-boot.mjs next to this file; tests give a missing one). */
  workerUrl?: URL;
}

/**
 * Threads for statistics computed after a run, while nothing else computes (ONNX captures: every
 * output is fetched at the run's end): every core, at most 4. The default (TF.js captures, whose
 * statistics are computed while the model runs on the calling thread) leaves that thread its core.
 */
export function threadsAfterRun(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export class NodeStatsPool extends ThreadStatsPool {
  private readonly url: URL;

  constructor(options: NodeStatsPoolOptions = {}) {
    super({
      threads: options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1)),
      // Node's worker threads always read SharedArrayBuffers (no cross-origin isolation to ask for).
      sharesMemory: options.sharesMemory ?? true,
      ...(options.minElements !== undefined ? { minElements: options.minElements } : {}),
    });
    this.url = options.workerUrl ?? WORKER_URL;
    this.memory = this.sharesMemory && (options.prefaults ?? true) ? new NodeReadyMemory() : null;
  }

  protected spawn(events: StatsThreadEvents): StatsThread | null {
    let worker: Worker;
    try {
      worker = new Worker(this.url, { name: 'exray-stats' });
    } catch {
      return null;
    }
    worker.on('message', (m: StatsFromWorker) => events.message(m));
    worker.on('error', (e) => events.gone(e.message));
    worker.on('exit', (code) => events.gone(`exited with code ${code}`));
    // After the listeners: a 'message' listener refs the worker's port again (an idle pool that was
    // never closed then kept the process alive).
    worker.unref();
    return {
      post: (m, transfer) => worker.postMessage(m, transfer),
      terminate: async () => void (await worker.terminate()),
      hold: (busy) => (busy ? worker.ref() : worker.unref()),
    };
  }

  protected later(f: () => void): void {
    setImmediate(f);
  }
}

let shared: NodeStatsPool | undefined;

/**
 * One pool for the process (TF.js traces in Node: `exray trace`, `reference`, the server's reference
 * runs), so that consecutive traces do not each start threads (a thread loads its kernel, and tsx from
 * sources: seconds on a busy machine). Its threads are unreferenced while idle, so the process exits
 * as if it had none; never closed.
 */
export function sharedNodeStatsPool(): NodeStatsPool {
  shared ??= new NodeStatsPool();
  return shared;
}
