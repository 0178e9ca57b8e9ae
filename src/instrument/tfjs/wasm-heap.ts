/**
 * Reading node outputs where TF.js's wasm backend keeps them. A tensor's values lie in the backend's
 * heap (an emscripten WebAssembly.Memory); exray's statistics kernel is bound to that memory
 * (registerStatsHeap) so computeStats reads a heap view in place, and a captured copy is made once,
 * from the heap, never from another copy.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { registerStatsHeap } from '../../trace/wasm/stats-simd.ts';

/** The parts of tfjs-backend-wasm 4.22's BackendWasm (and its emscripten module) used here. */
export interface WasmBackendLike {
  typedArrayFromHeap(t: Tensor): Float32Array | Int32Array | Uint8Array;
  wasm?: {
    HEAPU8?: Uint8Array;
    /** Threaded builds: the (shared) memory. */
    wasmMemory?: unknown;
    /** Single-threaded builds: the instance's exports, memory among them. */
    asm?: { memory?: unknown };
    _malloc?: (bytes: number) => number;
  };
}

const registered = new WeakMap<object, number>();

/** The backend's heap as a WebAssembly.Memory, when this build exposes it (else null). */
function heapMemory(b: WasmBackendLike): WebAssembly.Memory | null {
  const w = b.wasm;
  if (!w || typeof WebAssembly === 'undefined') return null;
  for (const m of [w.wasmMemory, w.asm?.memory]) {
    // The same buffer the backend's own views use: the memory its tensors live in.
    if (m instanceof WebAssembly.Memory && m.buffer === w.HEAPU8?.buffer) return m;
  }
  return null;
}

/**
 * Bind the statistics kernel to the backend's heap (once per backend, per histogram size), so that
 * computeStats on a `typedArrayFromHeap` view reads it in place. Returns whether it did; when not
 * (no SIMD, a TF.js build that hides its memory), computeStats copies the values, with the same result.
 * Call before taking views: the scratch allocation may grow the heap (detaching older views).
 */
export function bindStatsToWasmHeap(backend: unknown, bins: number): boolean {
  const b = backend as WasmBackendLike;
  if (typeof b !== 'object' || b === null || typeof b.typedArrayFromHeap !== 'function') return false;
  const done = registered.get(b);
  if (done !== undefined && done >= bins) return true;
  const memory = heapMemory(b);
  const malloc = b.wasm?._malloc;
  if (!memory || typeof malloc !== 'function') return false;
  // The scratch (results and histograms, a few KiB) stays allocated for the backend's lifetime.
  const ok = registerStatsHeap(memory, (bytes) => malloc.call(b.wasm, bytes) >>> 0, bins);
  if (ok) registered.set(b, bins);
  return ok;
}
