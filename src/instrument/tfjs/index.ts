/** Public API of the TF.js instrumenter. */
export { traceModel, streamModel, kernelClock, captureOptions, type TraceModelOptions } from './trace-model.ts';
export { Runner, timingPass, capturePass, type ModelInputs } from './passes.ts';
export { installHook, declaredNodeCount, isGraphModel, type NodeVisit, type NodeListener, type TfjsModel } from './hooks.ts';
export { collectEnvironment } from './environment.ts';
export { BlobPool } from './blob-pool.ts';
