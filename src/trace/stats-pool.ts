/**
 * Where tensor statistics are computed: a capture hands each value to a StatsPool and records the
 * node when its statistics come back. `inThreadStats` computes them at once on the calling thread
 * (the page, tests, any caller without workers); stats-pool-node.ts spreads them over worker threads
 * fed transferred buffers, or buffers shared with them (sharesMemory). Both run computeStats, so the
 * numbers are the same bit for bit. Pure.
 */
import type { BlobData, TensorStats } from './types.ts';
import { computeStats } from './stats.ts';

export interface StatsResult {
  stats: TensorStats;
  /** The values again: a pool may have moved them to another thread and back; use this, not the array given. */
  data: BlobData;
}

export interface StatsPool {
  /**
   * Statistics of `data` (its buffer may be transferred away until the promise settles: the caller
   * gives up the array it passes and takes `data` back from the result).
   */
  stats(data: BlobData, bins: number): Promise<StatsResult>;
  /**
   * Its threads read an array over a SharedArrayBuffer where it lies: nothing is transferred, there or
   * back (the answer is the statistics alone). A caller that copies values for it should copy them
   * into shared memory (blob-pool.ts `newBlob`): on a 2-core VM, a MobileNetV2 layers capture whose
   * copies were moved to a thread and back ran 1.53× a plain run, 1.37× with them shared (side by side).
   */
  readonly sharesMemory?: boolean;
  /**
   * An array the pool made ready for a copy it will read, its pages touched by another thread
   * (ready-memory.ts), so the inference thread copying into it pays no page faults: in shared memory
   * for a pool that sharesMemory, else a transferable one. Null when none is ready (the caller
   * allocates). Contents unspecified (the caller overwrites them).
   */
  readyBlob?(kind: 'float32' | 'int32', length: number): BlobData | null;
  /**
   * A capture that will copy values of these byte lengths for the pool is about to run (from the
   * timing pass's shapes): make their memory ready meanwhile.
   */
  expect?(byteLengths: readonly number[]): void;
  /** Resolves once the memory asked for is ready, or after `timeoutMs` (default: no bound). */
  memoryReady?(timeoutMs?: number): Promise<void>;
  /** A capture that handed copies to the pool has all its statistics back (the pool may now work for the next one). */
  captureEnded?(): void;
  /** Start the threads now (e.g. while a run is under way) rather than on the first job. */
  warm(): void;
  /** Stop the threads; jobs still queued are computed on the calling thread. */
  close(): Promise<void>;
}

/** computeStats on the calling thread. */
export const inThreadStats: StatsPool = {
  stats: (data, bins) => Promise.resolve({ stats: computeStats(data, bins), data }),
  warm: () => undefined,
  close: () => Promise.resolve(),
};
