/**
 * TF.js backends for a trace run: registration, wasm file URLs, flags, availability probes.
 * Runs in a worker (normally) or on the page's main thread (fallback); no DOM access beyond
 * OffscreenCanvas / navigator.gpu, which both have.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Vite does not emit the TF.js wasm binaries by itself: import their URLs (BROWSER.md pitfall 4).
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { Environment } from '../../trace/types.ts';
import type { BackendName, BackendOptions } from './protocol.ts';

setWasmPaths({
  'tfjs-backend-wasm.wasm': new URL(wasmPlainUrl, import.meta.url).href,
  'tfjs-backend-wasm-simd.wasm': new URL(wasmSimdUrl, import.meta.url).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedSimdUrl, import.meta.url).href,
});

/**
 * On the main thread a backend may already exist from an earlier run with other flags: drop the
 * instance and register its factory again so the next setBackend initialises it afresh.
 */
function resetBackend(name: BackendName): void {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  if (!(name in registry)) return;
  const factory = tf.findBackendFactory(name);
  if (!factory) return;
  tf.removeBackend(name);
  tf.registerBackend(name, factory);
  for (const flag of ['WEBGL_FORCE_F16_TEXTURES', 'WEBGL_CPU_FORWARD', 'WEBGL_PACK', 'WASM_HAS_MULTITHREAD_SUPPORT', 'WASM_HAS_SIMD_SUPPORT']) {
    const flags = (tf.env() as unknown as { flags: Record<string, unknown> }).flags;
    delete flags[flag];
  }
}

/**
 * Set the flags of `options`, then select `backend` explicitly (TF.js would pick webgpu by itself
 * when it exists) and wait until it is ready. Flags must be set before the backend initialises: use a
 * fresh worker per configuration. Returns what the trace's environment should add.
 */
export async function useBackend(backend: BackendName, options: BackendOptions): Promise<Partial<Environment>> {
  const env = tf.env();
  resetBackend(backend);
  if (backend === 'webgl') {
    env.set('WEBGL_PACK', options.webglPack);
    if (options.webglF16) {
      env.set('WEBGL_FORCE_F16_TEXTURES', true);
      env.set('WEBGL_CPU_FORWARD', false);
    }
  }
  if (backend === 'wasm') {
    // Must be decided before the wasm module loads. On the page's main thread the (minified) bundle
    // breaks TF.js wasm's pthread workers (tensorflow/tfjs#4253): single-threaded there.
    const onMainThread = typeof document !== 'undefined';
    if (!options.wasmThreads || onMainThread) env.set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!options.wasmSimd) env.set('WASM_HAS_SIMD_SUPPORT', false);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(backend);
  } catch (e) {
    throw new Error(`TF.js backend ${backend} failed to initialise: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!ok || tf.getBackend() !== backend) throw new Error(`TF.js backend ${backend} failed to initialise (setBackend returned ${String(ok)})`);
  await tf.ready();
  const extra: Partial<Environment> = {};
  if (backend === 'wasm') {
    extra.threads = getThreadsCount();
    extra.flags = {
      WASM_HAS_SIMD_SUPPORT: await env.getAsync('WASM_HAS_SIMD_SUPPORT'),
      WASM_HAS_MULTITHREAD_SUPPORT: await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    };
  } else if (backend === 'webgl') {
    extra.flags = {
      WEBGL_FORCE_F16_TEXTURES: env.getBool('WEBGL_FORCE_F16_TEXTURES'),
      WEBGL_CPU_FORWARD: env.getBool('WEBGL_CPU_FORWARD'),
      WEBGL_PACK: env.getBool('WEBGL_PACK'),
      WEBGL_RENDER_FLOAT32_ENABLED: env.getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    };
    extra.threads = 1;
  } else {
    extra.threads = 1;
  }
  return extra;
}

export { tf };
