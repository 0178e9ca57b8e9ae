/**
 * `exray`: the library entry. Trace a model where it runs, compare it with a reference, name the cause.
 *
 *   import { traceModel, compareTraces, diagnose } from 'exray';
 *
 * TF.js and onnxruntime are the app's own: `traceModel` uses the `@tensorflow/tfjs-core` engine the
 * model was loaded with (one engine per page/process), `traceOnnx` takes the `ort` module as an
 * argument. Importing this module has no side effects and touches no DOM global.
 * Also published: `exray/trace` (the trace format only: types, `.exray` read/write, events) and
 * `exray/agent` (`attach`: trace the inferences of a running app).
 */
import { decodeTrace, type DecodeOptions } from './trace/file.ts';
import type { Trace } from './trace/types.ts';

export { traceModel, streamModel, type TraceModelOptions } from './instrument/tfjs/trace-model.ts';
export type { ModelInputs } from './instrument/tfjs/passes.ts';
export type { TfjsModel } from './instrument/tfjs/hooks.ts';
export { traceOnnx, type TraceOnnxOptions } from './instrument/ort/trace-model.ts';
export type { OrtInput } from './instrument/ort/tensors.ts';
export type { OrtModule } from './instrument/ort/ort-api.ts';
export type { TraceRunOptions } from './instrument/common.ts';

export { compareTraces, formatComparisonTable } from './compare/index.ts';
export type { CompareOptions, Comparison, ToleranceSpec } from './compare/index.ts';

export { diagnose, formatDiagnosis, type DiagnoseInput } from './diagnose/index.ts';
export type { Cause, Diagnosis } from './diagnose/index.ts';

export { decodeTrace, type DecodeOptions } from './trace/file.ts';
export { encodeTrace } from './trace/file-writer.ts';
export { TraceFormatError } from './trace/errors.ts';
export type { Trace, TraceEvent, TraceHeader, CaptureMode } from './trace/types.ts';

/**
 * Reads `.exray` bytes (as written by `encodeTrace`, the CLI or the page) into a trace. Every problem
 * is a `TraceFormatError` naming `fileName`. Same as `decodeTrace` with the file name optional.
 */
export function readTrace(bytes: Uint8Array, fileName = 'trace.exray', options: DecodeOptions = {}): Trace {
  return decodeTrace(bytes, fileName, options);
}
