/**
 * The stats ring's worker side (stats-ring.ts has the inference thread's): it touches the ring's
 * pages, computes each job's statistics where its values lie and publishes them, and touches pages
 * grown for kept arrays. The page's ring worker (src/viewer/worker/stats-ring-worker-web.ts) runs
 * serveStatsRing; tests play the worker with openStatsRing, answerStatsJob and touchStatsRing.
 */
import { computeStats } from './stats.ts';
import { registerStatsHeap } from './wasm/stats-simd.ts';
import { C_BELL, C_CLOSED, C_DONE, C_READY, C_SUBMITTED, C_TOUCHED, C_WANT, CTRL_WORDS, DATA, DESCRIPTORS, encode, RESULTS, RESULT_WORDS, RING_MAX_BINS, SCRATCH, SLOTS } from './stats-ring-layout.ts';

/** Pages the worker touches between two looks at its jobs. */
const TOUCH_PAGES = 16;

/**
 * The worker's side, for as long as the ring is open (returns once closed): touch every page of the
 * data area (so the inference thread's copies pay no page faults), say ready, then compute each job
 * in turn, in place, and publish its answer, and touch pages grown for kept arrays. Blocks its thread
 * (Atomics.wait) when there is nothing to do.
 */
export function serveStatsRing(memory: WebAssembly.Memory): void {
  const ctrl = new Int32Array(memory.buffer, 0, CTRL_WORDS);
  openStatsRing(memory);
  for (;;) {
    if (Atomics.load(ctrl, C_CLOSED) === 1) return;
    const bell = Atomics.load(ctrl, C_BELL);
    if (!answerStatsJob(memory) && !touchStatsRing(memory)) Atomics.wait(ctrl, C_BELL, bell);
  }
}

/** The worker's first step: bind the kernels to the ring, touch its pages, say it is ready. */
export function openStatsRing(memory: WebAssembly.Memory): void {
  // The kernels read the values where they lie; scratch is the ring's own.
  registerStatsHeap(memory, () => SCRATCH, RING_MAX_BINS);
  const ctrl = new Int32Array(memory.buffer, 0, CTRL_WORDS);
  const pages = memory.buffer.byteLength / 65536;
  touch(memory, DATA, pages * 65536);
  Atomics.store(ctrl, C_TOUCHED, pages);
  Atomics.store(ctrl, C_READY, 1);
}

/** Touch the next pages grown for kept arrays (a few at a time, so jobs are not held up): false when none is left. */
export function touchStatsRing(memory: WebAssembly.Memory): boolean {
  const ctrl = new Int32Array(memory.buffer, 0, CTRL_WORDS);
  const touched = Atomics.load(ctrl, C_TOUCHED);
  const want = Atomics.load(ctrl, C_WANT);
  if (touched >= want) return false;
  const to = Math.min(want, touched + TOUCH_PAGES);
  touch(memory, touched * 65536, to * 65536);
  Atomics.store(ctrl, C_TOUCHED, to);
  return true;
}

/**
 * One write in each 4 KiB page of [from, to), so that its fault is paid here. An atomic add of 0: it
 * never changes a byte the inference thread may already have written (it may not wait for this).
 */
function touch(memory: WebAssembly.Memory, from: number, to: number): void {
  const bytes = new Uint8Array(memory.buffer, from, to - from);
  for (let i = 0; i < bytes.length; i += 4096) Atomics.add(bytes, i, 0);
}

/** Compute and publish the oldest job not yet answered: false when there is none. */
export function answerStatsJob(memory: WebAssembly.Memory): boolean {
  const buf = memory.buffer;
  const ctrl = new Int32Array(buf, 0, CTRL_WORDS);
  const next = Atomics.load(ctrl, C_DONE);
  if (next >= Atomics.load(ctrl, C_SUBMITTED)) return false;
  const d = (next % SLOTS) * 4;
  const desc = new Int32Array(buf, DESCRIPTORS + d * 4, 3);
  const values = new Float32Array(buf, DATA + desc[0]! * 4, desc[1]!);
  encode(computeStats(values, desc[2]!), new Float64Array(buf, RESULTS + (next % SLOTS) * RESULT_WORDS * 8, RESULT_WORDS), 0);
  Atomics.store(ctrl, C_DONE, next + 1);
  Atomics.notify(ctrl, C_DONE);
  return true;
}
