/**
 * The wasm SIMD kernels of computeStats (stats.wat): loaded synchronously on first use (the module is
 * < 1 KB, under every browser's limit for synchronous compilation on a page's main thread). Null where
 * WebAssembly or its SIMD instructions are unavailable (old browsers, a CSP without
 * 'wasm-unsafe-eval'): computeStats then runs its JS loops, which give the same numbers.
 */
import { STATS_WASM_BASE64 } from './stats-wasm.gen.ts';

export interface StatsKernels {
  memory: WebAssembly.Memory;
  pass1(n4: number): void;
  pass2(n4: number, mean: number, min: number, k: number, last: number): void;
}

/** Layout of stats.wat's memory. */
export const SIMD_RESULTS = 0;
export const SIMD_HIST = 1024;
export const SIMD_DATA = 65536;
/** Most histogram bins the kernel's scratch area holds (four i32 sub-histograms per bin). */
export const SIMD_MAX_BINS = (SIMD_DATA - SIMD_HIST) / 16;

let kernels: StatsKernels | null | undefined;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The kernels, or null when this runtime cannot run them. `EXRAY_STATS_SIMD=0` (Node) turns them off. */
export function statsKernels(): StatsKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.['EXRAY_STATS_SIMD'] === '0') return null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(STATS_WASM_BASE64)), {});
    kernels = instance.exports as unknown as StatsKernels;
  } catch {
    kernels = null;
  }
  return kernels;
}

/** For tests: force the JS path (false) or the kernels (true, when available); undefined resets. */
export function setStatsKernelsForTest(on: boolean | undefined): void {
  kernels = on === false ? null : undefined;
  if (on) statsKernels();
}

/** Copies `v`'s first n4 values into the kernel's memory, growing it when needed. */
export function loadValues(k: StatsKernels, v: Float32Array, n4: number): void {
  const need = SIMD_DATA + n4 * 4;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  new Float32Array(k.memory.buffer, SIMD_DATA, n4).set(n4 === v.length ? v : v.subarray(0, n4));
}
