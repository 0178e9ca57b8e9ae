/**
 * The onnxruntime session options of each kind of session traceOnnx creates. Pure (page, worker, Node).
 *
 * - Timing sessions (the plain timed runs, the profiled run) run the unmodified model as a user would,
 *   with the caller's options — except onnxruntime's memory pattern and arena on large models. After a
 *   session's first run the pattern plans one block for every activation and allocates it beside what
 *   the arena already holds, so from the second run on the session keeps about the activations twice
 *   (ISNet 1024² int8 on onnxruntime-node: 2.15 GB peak with it, 1.24 GB without, arena kept); the arena
 *   keeps its largest extent (grown in powers of two) for the session's life (ISNet fp16, a bare
 *   session, 3 runs: 1.51 GiB peak with it, 1.24 GiB without). When the model's values (every node
 *   output, estimated from the model) exceed the memory budget, both are off: runs then allocate each
 *   buffer as they go, which the kernel times include. The trace's environment flags
 *   (`enableMemPattern: false`, `enableCpuMemArena: false`) and a warning say so. A caller's explicit
 *   `enableMemPattern` keeps both as given; an explicit `enableCpuMemArena` is kept.
 * - Capture sessions run once each: graph optimisation off (see trace-model.ts), no arena, no pattern.
 */
import { formatBytes, type ValueSize } from './capture-plan.ts';
import type { OrtSessionOptions } from './ort-api.ts';

/** Bytes of every value in `sizes` (node outputs and inputs), in their own element types. */
export function valuesBytes(sizes: ReadonlyMap<string, ValueSize>): number {
  let bytes = 0;
  for (const s of sizes.values()) bytes += s.elements * s.elementBytes;
  return bytes;
}

export interface TimingSessionOptions {
  options: OrtSessionOptions;
  /** Set when the memory pattern was turned off: the trace warning that says why. */
  note?: string;
}

/** The timing sessions' options: `base` (the caller's, with the execution provider), pattern off when large. */
export function timingSessionOptions(base: OrtSessionOptions, modelValuesBytes: number, budget: number): TimingSessionOptions {
  if (base.enableMemPattern !== undefined || modelValuesBytes <= budget) return { options: base };
  return {
    options: { ...base, enableMemPattern: false, ...(base.enableCpuMemArena === undefined ? { enableCpuMemArena: false } : {}) },
    note:
      `the model's values (${formatBytes(modelValuesBytes)} estimated) exceed the memory budget of ${formatBytes(budget)}: ` +
      `the timed and profiled runs use sessions without onnxruntime's memory pattern (it would keep about the activations twice)` +
      `${base.enableCpuMemArena === undefined ? ' or arena (it keeps its largest extent)' : ''}, ` +
      `so their times include allocating each buffer`,
  };
}
