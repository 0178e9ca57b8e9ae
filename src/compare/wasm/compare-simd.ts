/**
 * The wasm SIMD kernel of tensorMetrics (compare.wat): loaded synchronously on first use (the module is
 * < 2 KB, under every browser's limit for synchronous compilation on a page's main thread). Null where
 * WebAssembly or its SIMD instructions are unavailable (old browsers, a CSP without
 * 'wasm-unsafe-eval'): tensorMetrics then runs its JS lane pass, which gives the same numbers.
 */
import { COMPARE_WASM_BASE64 } from './compare-wasm.gen.ts';

interface CompareExports {
  memory: WebAssembly.Memory;
  chunk(n8: number, base: number): number;
  chunkSlow(n4: number, base: number): number;
}

/** The kernel with views of its memory (the memory never grows, so the views stay valid). */
export interface CompareKernel {
  /**
   * Folds the chunk's first n8 pairs (n8 a multiple of 8, first index `base`) into the state when
   * every value is finite (returns 0); returns -1 and leaves the state as it was otherwise.
   */
  chunk(n8: number, base: number): number;
  /** The same, leaving out the pairs with a NaN or ±Inf; returns how many there were. */
  chunkSlow(n4: number, base: number): number;
  /** The state's float64 part: [Σd², Σ|d|, Σab, Σa², Σb², max |d|, its group] × 2 lanes (14 values from byte 0). */
  state64: Float64Array;
  /** The state's float32 part: [min a, max a, min b, max b] × 4 lanes (16 values from byte 112). */
  state32: Float32Array;
  /** Where the caller copies the chunk's edge / reference values. */
  edge: Float32Array;
  ref: Float32Array;
}

/** Pairs per chunk: both sides' chunk (128 KB) stays in L2 between the copy and the kernel. */
export const COMPARE_CHUNK = 16384;
const EDGE_AT = 65536;
const REF_AT = 131072;

let kernel: CompareKernel | null | undefined;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The kernel, or null when this runtime cannot run it. `EXRAY_COMPARE_SIMD=0` (Node) turns it off. */
export function compareKernel(): CompareKernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.['EXRAY_COMPARE_SIMD'] === '0') return null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(COMPARE_WASM_BASE64)), {});
    const ex = instance.exports as unknown as CompareExports;
    const buf = ex.memory.buffer;
    kernel = {
      chunk: ex.chunk,
      chunkSlow: ex.chunkSlow,
      state64: new Float64Array(buf, 0, 14),
      state32: new Float32Array(buf, 112, 16),
      edge: new Float32Array(buf, EDGE_AT, COMPARE_CHUNK),
      ref: new Float32Array(buf, REF_AT, COMPARE_CHUNK),
    };
  } catch {
    kernel = null;
  }
  return kernel;
}

/** For tests and the benchmark: force the JS path (false) or the kernel (true, when available); undefined resets. */
export function setCompareKernelForTest(on: boolean | undefined): void {
  kernel = on === false ? null : undefined;
  if (on) compareKernel();
}
