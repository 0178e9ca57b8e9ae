/** The device and the onnxruntime settings, as recorded in a trace's `environment`. No Node APIs. */
import type { Environment } from '../../trace/types.ts';
import { deviceEnvironment } from '../common.ts';
import type { OrtModule, OrtRuntimeName, OrtSessionOptions } from './ort-api.ts';


/**
 * Describe the device, the runtime settings and the threads used. Call it after the first session was
 * created: onnxruntime-web fills in `env.wasm.numThreads` when it initialises.
 */
export function collectOrtEnvironment(
  ort: OrtModule,
  runtime: OrtRuntimeName,
  executionProvider: string,
  sessionOptions: OrtSessionOptions,
  extra: Partial<Environment> = {},
): Environment {
  const flags: Record<string, string | number | boolean> = {
    executionProvider,
    graphOptimizationLevel: sessionOptions.graphOptimizationLevel ?? 'all',
  };
  if (sessionOptions.executionMode) flags['executionMode'] = sessionOptions.executionMode;
  // Recorded when off: large models are timed without the memory pattern (session-options.ts).
  if (sessionOptions.enableMemPattern === false) flags['enableMemPattern'] = false;
  if (sessionOptions.enableCpuMemArena === false) flags['enableCpuMemArena'] = false;
  if (sessionOptions.intraOpNumThreads !== undefined) flags['intraOpNumThreads'] = sessionOptions.intraOpNumThreads;
  let threads: number | undefined = extra.threads;
  if (runtime === 'onnxruntime-web') {
    const wasm = ort.env.wasm;
    if (typeof wasm.numThreads === 'number') {
      flags['wasm.numThreads'] = wasm.numThreads;
      threads ??= wasm.numThreads;
    }
    if (typeof wasm.proxy === 'boolean') flags['wasm.proxy'] = wasm.proxy;
    const simd = (wasm as { simd?: unknown }).simd;
    if (typeof simd === 'boolean') flags['wasm.simd'] = simd;
  } else if (sessionOptions.intraOpNumThreads) {
    threads ??= sessionOptions.intraOpNumThreads;
  }
  const env: Environment = { ...deviceEnvironment(), flags };
  if (threads !== undefined) env.threads = threads;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (typeof isolated === 'boolean') env.crossOriginIsolated = isolated;
  return { ...env, ...extra, ...(threads !== undefined ? { threads } : {}), flags: { ...flags, ...(extra.flags ?? {}) } };
}
