/**
 * The slice of the onnxruntime JavaScript API exray uses. onnxruntime-web and onnxruntime-node both
 * implement it (both re-export onnxruntime-common), so one instrumenter serves both: the caller passes
 * the namespace it imported.
 */
import type * as ortWeb from 'onnxruntime-web';

export type OrtModule = {
  InferenceSession: typeof ortWeb.InferenceSession;
  Tensor: typeof ortWeb.Tensor;
  env: ortWeb.Env;
};
export type OrtSession = ortWeb.InferenceSession;
export type OrtTensor = ortWeb.Tensor;
export type OrtSessionOptions = ortWeb.InferenceSession.SessionOptions;
export type OrtRuntimeName = 'onnxruntime-web' | 'onnxruntime-node';

/** Execution providers exray knows how to time. */
export type OrtExecutionProvider = 'cpu' | 'wasm' | 'webgpu' | 'webnn' | 'webgl';

/** The runtime's version: `env.versions.web` / `.node`, else the common package's. */
export function ortVersion(ort: OrtModule, runtime: OrtRuntimeName): string {
  const v = ort.env.versions as Record<string, string | undefined>;
  return (runtime === 'onnxruntime-web' ? v['web'] : v['node']) ?? v['common'] ?? 'unknown';
}
