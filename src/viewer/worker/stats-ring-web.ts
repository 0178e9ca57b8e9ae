/**
 * A StatsRing (src/trace/stats-ring.ts) served by a Web Worker of its own (stats-ring-worker-web.ts):
 * a TF.js capture on cpu/wasm copies each output into shared memory and its statistics come back
 * through that memory while the run goes on, so rows still stream, without the inference thread
 * computing them. With `keep`, it also holds a tensors capture's values (its CaptureMemory): each
 * output copied once, there. Needs shared memory: null where the page is not cross-origin isolated,
 * or no worker can be made (the capture then computes statistics where it runs, as before).
 */
import { closeStatsRing, ringPages, StatsRing } from '../../trace/stats-ring.ts';

export interface WebStatsRingOptions {
  /** Bytes of values in flight (default RING_DEFAULT_BYTES). */
  bytes?: number;
  /** Bytes of values it may keep for a capture (its CaptureMemory; default none): the memory's maximum, beyond its ring. */
  keep?: number;
  /** The worker's script (default stats-ring-worker-web.ts, bundled by Vite; tests give a missing one). */
  workerUrl?: URL;
}

/**
 * A tensors capture's ring (run-job.ts): it keeps up to 128 MiB of values (a MobileNetV2 layers
 * capture takes 88 MB; beyond, new arrays), and its ring proper is small: only values it cannot keep
 * go there.
 */
export const TENSORS_RING = { bytes: 4 * 1024 * 1024, keep: 128 * 1024 * 1024 } as const satisfies WebStatsRingOptions;

export class WebStatsRing extends StatsRing {
  private constructor(
    memory: WebAssembly.Memory,
    private readonly worker: Worker,
  ) {
    super(memory);
  }

  /** A ring and its worker, or null where shared memory or workers are unavailable. */
  static open(options: WebStatsRingOptions = {}): WebStatsRing | null {
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    if (!isolated || typeof Worker === 'undefined' || typeof WebAssembly === 'undefined') return null;
    let memory: WebAssembly.Memory;
    let worker: Worker;
    try {
      const pages = ringPages(options.bytes);
      // Only what it grows to is committed; a maximum reserves address space (a 32-bit phone may refuse it).
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages + Math.ceil((options.keep ?? 0) / 65536), shared: true });
      // Vite bundles the worker only from this literal form.
      worker = options.workerUrl
        ? new Worker(options.workerUrl, { type: 'module', name: 'exray-stats-ring' })
        : new Worker(new URL('./stats-ring-worker-web.ts', import.meta.url), { type: 'module', name: 'exray-stats-ring' });
    } catch {
      return null;
    }
    const ring = new WebStatsRing(memory, worker);
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      ring.giveUp(`its worker failed: ${e.message || 'could not load'}`);
    });
    worker.addEventListener('messageerror', () => ring.giveUp('its worker could not read the memory'));
    worker.postMessage(memory);
    return ring;
  }

  /** Stop the worker; statistics not yet back are computed on the calling thread. */
  close(): void {
    this.giveUp('closed');
    closeStatsRing(this.memory);
    this.worker.terminate();
  }
}
