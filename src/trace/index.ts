/**
 * Public API of src/trace: the trace data contract, its event stream, the `.exray` file, and exports.
 * Pure: runs unchanged in browser, worker and Node.
 */
export * from './types.ts';
export { TraceFormatError, TraceRunError } from './errors.ts';
export { computeStats, DEFAULT_HISTOGRAM_BINS } from './stats.ts';
export { TraceBuilder, traceToEvents, foldEvents } from './events.ts';
export type { TraceBuilderOptions, TraceBuilderState } from './events.ts';
export {
  SUPPORTED_VERSIONS,
  traceHeaderSchema,
  parseTraceHeader,
  validateTrace,
  headerProblems,
  blobUses,
  formatPath,
} from './schema.ts';
export type { BlobUse } from './schema.ts';
export { encodeTrace } from './file-writer.ts';
export {
  decodeTrace,
  blobEntryName,
  HEADER_ENTRY,
  TENSOR_DIR,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  MAX_HEADER_BYTES,
} from './file.ts';
export type { DecodeOptions } from './file.ts';
export { newTraceId, blobIdFor, createBlobIdAllocator, BLOB_ID_PATTERN } from './ids.ts';
export type { BlobIdAllocator } from './ids.ts';
export { toPerfetto } from './export/perfetto.ts';
export type { ChromeTrace, ChromeTraceEvent } from './export/perfetto.ts';
export { toModelExplorerNodeData, toModelExplorerModelNodeData, GREEN_TO_RED } from './export/model-explorer.ts';
export type {
  ModelExplorerGraphNodeData,
  ModelExplorerModelNodeData,
  ModelExplorerOptions,
  ModelExplorerResult,
  ModelExplorerThreshold,
  ModelExplorerGradientStop,
} from './export/model-explorer.ts';
