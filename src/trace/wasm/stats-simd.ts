/**
 * The wasm SIMD kernels of computeStats (stats.wat): loaded synchronously on first use (the module is
 * < 1 KB, under every browser's limit for synchronous compilation on a page's main thread). Null where
 * WebAssembly or its SIMD instructions are unavailable (old browsers, a CSP without
 * 'wasm-unsafe-eval'): computeStats then runs its JS loops, which give the same numbers.
 *
 * The kernels import their memory. `statsKernels()` gives them one of their own, into which the
 * values are copied. `registerStatsHeap` binds a second instance to another module's heap (TF.js's
 * wasm backend) so that values lying in that heap are read where they are, without a copy.
 */
import { STATS_WASM_BASE64, STATS_WASM_SHARED_BASE64 } from './stats-wasm.gen.ts';

export interface StatsKernels {
  memory: WebAssembly.Memory;
  pass1(p: number, n4: number, out: number): void;
  pass2(p: number, n4: number, mean: number, min: number, k: number, last: number, out: number, hist: number): void;
}

/** Layout of the kernels' own memory. */
export const SIMD_RESULTS = 0;
export const SIMD_HIST = 1024;
export const SIMD_DATA = 65536;
/** Most histogram bins the kernel's scratch area holds (four i32 sub-histograms per bin). */
export const SIMD_MAX_BINS = (SIMD_DATA - SIMD_HIST) / 16;
/** Bytes of results a pass writes at `out` (rounded up to keep the histograms 16-byte aligned). */
export const SIMD_RESULT_BYTES = 128;

let kernels: StatsKernels | null | undefined;
const modules: { plain?: WebAssembly.Module | null; shared?: WebAssembly.Module | null } = {};

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function simdDisabled(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.['EXRAY_STATS_SIMD'] === '0';
}

/** The compiled kernel module (shared: for a SharedArrayBuffer memory), or null when it cannot run here. */
function kernelModule(shared: boolean): WebAssembly.Module | null {
  const key = shared ? 'shared' : 'plain';
  const known = modules[key];
  if (known !== undefined) return known;
  let mod: WebAssembly.Module | null = null;
  try {
    if (typeof WebAssembly !== 'undefined') mod = new WebAssembly.Module(decodeBase64(shared ? STATS_WASM_SHARED_BASE64 : STATS_WASM_BASE64));
  } catch {
    mod = null;
  }
  modules[key] = mod;
  return mod;
}

function instantiate(memory: WebAssembly.Memory): StatsKernels | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const mod = kernelModule(shared);
  if (!mod) return null;
  try {
    const exports = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as Omit<StatsKernels, 'memory'>;
    return { memory, pass1: exports.pass1, pass2: exports.pass2 };
  } catch {
    return null;
  }
}

/** The kernels, or null when this runtime cannot run them. `EXRAY_STATS_SIMD=0` (Node) turns them off. */
export function statsKernels(): StatsKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  if (simdDisabled()) return null;
  try {
    if (typeof WebAssembly === 'undefined') return null;
    kernels = instantiate(new WebAssembly.Memory({ initial: 2 }));
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

/**
 * Another module's heap whose values the kernels read in place: `scratch` is the address of
 * `scratchBytes` bytes in that heap the kernels may overwrite (results and histograms).
 */
export interface StatsHeap {
  kernels: StatsKernels;
  scratch: number;
  scratchBytes: number;
}

/** At most a few heaps are live (one per wasm backend instance): a list, searched by buffer. */
const heaps: StatsHeap[] = [];

/**
 * Let computeStats read float32 views of `memory` in place. `allocate(bytes)` returns the address of
 * `bytes` bytes of that heap the kernels may use as scratch for good (called once per size; the
 * heap's own allocator, e.g. emscripten's `_malloc`). Returns false when the kernels cannot run on
 * that memory (computeStats then copies, as for any other array). Registering twice is a no-op.
 */
export function registerStatsHeap(memory: WebAssembly.Memory, allocate: (bytes: number) => number, maxBins: number): boolean {
  const known = heaps.find((h) => h.kernels.memory === memory);
  if (known && known.scratchBytes >= SIMD_RESULT_BYTES + 16 * maxBins) return true;
  if (simdDisabled() || statsKernels() === null) return false;
  const k = known?.kernels ?? instantiate(memory);
  if (!k) return false;
  const scratchBytes = SIMD_RESULT_BYTES + 16 * Math.max(maxBins, 64);
  // 15 spare bytes: the scratch starts 16-byte aligned whatever the allocator's alignment.
  const raw = allocate(scratchBytes + 15);
  if (!Number.isSafeInteger(raw) || raw <= 0) return false;
  const scratch = (raw + 15) & ~15;
  if (known) Object.assign(known, { scratch, scratchBytes });
  else heaps.push({ kernels: k, scratch, scratchBytes });
  return true;
}

/** The registered heap `v` is a view of, if any (and only while the kernels are on). */
export function heapOf(v: Float32Array): StatsHeap | null {
  if (heaps.length === 0 || kernels === null) return null;
  const buf = v.buffer;
  for (const h of heaps) if (h.kernels.memory.buffer === buf) return h;
  return null;
}
