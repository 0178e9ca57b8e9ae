/** Public API of the onnxruntime instrumenter (onnxruntime-web in a page or in Node, onnxruntime-node). */
export { streamOnnx, traceOnnx, type TraceOnnxOptions } from './trace-model.ts';
export { CaptureBudgetError } from './capture-plan.ts';
export { OrtRunner, OrtLoadError, createSession, disposeAll, timingPass } from './passes.ts';
export {
  chromeTraceProfiler,
  consoleProfiler,
  webgpuProfiler,
  readConsoleProfile,
  installOrtConsoleHook,
  restoreConsole,
  captureConsole,
  profileFromLines,
  type KernelProfiler,
} from './profilers.ts';
export { parseOrtProfile, attributeKernels, subgraphOwners, ProfileParseError, type RawKernel } from './profile.ts';
export { collectOrtEnvironment } from './environment.ts';
export { toOrtTensor, ortInputData, ortTypeOfOnnx, tensorValues, type OrtInput, type TensorValues } from './tensors.ts';
export { ortVersion, type OrtModule, type OrtSession, type OrtSessionOptions, type OrtTensor, type OrtRuntimeName, type OrtExecutionProvider } from './ort-api.ts';
