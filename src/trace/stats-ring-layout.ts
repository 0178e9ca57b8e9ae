/**
 * The stats ring's shared memory, as both its sides read it (stats-ring.ts: the inference thread's;
 * stats-ring-worker.ts: the worker's): control words, slot descriptors and results, the data area,
 * then the kept arrays.
 */
import type { TensorStats } from './types.ts';

/** Control words (Int32 indices at byte 0). */
export const C_SUBMITTED = 0;
export const C_DONE = 1;
export const C_READY = 2;
export const C_CLOSED = 3;
/** Rung (incremented) at every job, growth and close: the worker waits on it, so no wake-up is lost. */
export const C_BELL = 4;
/** Pages of memory the worker is asked to have touched, and has touched. */
export const C_WANT = 5;
export const C_TOUCHED = 6;
export const CTRL_WORDS = 8;
/** Scratch the kernels may overwrite (registerStatsHeap), 16-byte aligned. */
export const SCRATCH = 256;
export const SCRATCH_BYTES = 4096;
/** Jobs in flight at most (a MobileNetV2 has ~100 nodes). */
export const SLOTS = 512;
/** Per slot: the values' offset in the data area, their length, the bins (Int32 ×4). */
export const DESCRIPTORS = SCRATCH + SCRATCH_BYTES;
/** Most histogram bins a slot holds. */
export const RING_MAX_BINS = 64;
/** Per slot: count, min, max, mean, std, nanCount, infCount, zeroCount, histogram min, max, bins, counts. */
export const RESULT_WORDS = 11 + RING_MAX_BINS;
export const RESULTS = DESCRIPTORS + SLOTS * 16;
export const DATA = Math.ceil((RESULTS + SLOTS * RESULT_WORDS * 8) / 65536) * 65536;
/** Default bytes of values in flight (the ring's data area). */
export const RING_DEFAULT_BYTES = 32 * 1024 * 1024;

/** Pages (64 KiB) of the shared WebAssembly.Memory a ring of `dataBytes` needs. */
export function ringPages(dataBytes: number = RING_DEFAULT_BYTES): number {
  return (DATA + Math.ceil(dataBytes / 65536) * 65536) / 65536;
}

/** The statistics a slot's results hold. */
export function decode(r: Float64Array, at: number): TensorStats {
  const bins = r[at + 10]!;
  const counts = new Array<number>(bins);
  for (let i = 0; i < bins; i++) counts[i] = r[at + 11 + i]!;
  // The key order of computeStats' objects: a trace written from either is the same text.
  return {
    count: r[at]!,
    min: r[at + 1]!,
    max: r[at + 2]!,
    mean: r[at + 3]!,
    std: r[at + 4]!,
    nanCount: r[at + 5]!,
    infCount: r[at + 6]!,
    zeroCount: r[at + 7]!,
    histogram: { min: r[at + 8]!, max: r[at + 9]!, counts },
  };
}

/** Write `s` into a slot's results (at most RING_MAX_BINS bins). */
export function encode(s: TensorStats, r: Float64Array, at: number): void {
  r[at] = s.count;
  r[at + 1] = s.min;
  r[at + 2] = s.max;
  r[at + 3] = s.mean;
  r[at + 4] = s.std;
  r[at + 5] = s.nanCount;
  r[at + 6] = s.infCount;
  r[at + 7] = s.zeroCount;
  r[at + 8] = s.histogram.min;
  r[at + 9] = s.histogram.max;
  const n = Math.min(s.histogram.counts.length, RING_MAX_BINS);
  r[at + 10] = n;
  for (let i = 0; i < n; i++) r[at + 11 + i] = s.histogram.counts[i]!;
}

/** Close the ring from any thread: its worker returns from serveStatsRing. */
export function closeStatsRing(memory: WebAssembly.Memory): void {
  const ctrl = new Int32Array(memory.buffer, 0, CTRL_WORDS);
  Atomics.store(ctrl, C_CLOSED, 1);
  ring(ctrl);
}

/** Wake the worker: something changed (a job, growth, close). */
export function ring(ctrl: Int32Array): void {
  Atomics.add(ctrl, C_BELL, 1);
  Atomics.notify(ctrl, C_BELL);
}
