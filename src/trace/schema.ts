/**
 * Validation of trace headers and in-memory traces. Pure: no DOM, no Node.
 *
 * Three layers, all reported as TraceFormatError(file, problem):
 * 1. `format` / `version` (checked first, so an unsupported version is named as such),
 * 2. the zod schema `traceHeaderSchema` (types, enums, ranges; the problem names the JSON path),
 * 3. cross-field rules (`headerProblems`, rules.ts): execution order, unique node names, kernel indices in range,
 *    kernel <-> node attribution, shape products vs blob lengths and stats counts, blob references that
 *    agree with each other.
 *
 * Unknown fields are accepted at every level and preserved (a v1 writer may add optional fields;
 * see docs/trace-format.md "Versioning"). An unknown `version` is rejected.
 */
import { z } from 'zod';
import { TraceFormatError } from './errors.ts';
import { BLOB_ID_PATTERN } from './ids.ts';
import { blobUses, headerProblems } from './rules.ts';
import { describe, errorMap, formatPath } from './schema-messages.ts';
import { TRACE_FORMAT, TRACE_VERSION } from './types.ts';
import type {
  BlobRef,
  CapturePlan,
  Environment,
  Histogram,
  InputRecord,
  InputSource,
  IOSpec,
  KernelRecord,
  ModelIdentity,
  NamedTensor,
  NodeRecord,
  PreprocessSpec,
  RuntimeInfo,
  TensorRecord,
  TensorStats,
  TimingSummary,
  Trace,
  TraceHeader,
  WebGLInfo,
  WebGPUInfo,
} from './types.ts';

export { blobUses, headerProblems, type BlobUse } from './rules.ts';
export { formatPath } from './schema-messages.ts';

/**
 * File versions this reader accepts. Version 2 differs from 1 only in the blob layout (`blobCodecs`,
 * file.ts); its header fields are version 1's, so a parsed header is a version-1 TraceHeader.
 */
export const SUPPORTED_VERSIONS: readonly number[] = [TRACE_VERSION, 2];

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

/**
 * One zod schema per key of T, nothing more, nothing less (checked by the compiler): adding a field to
 * types.ts without adding it here is a type error, and so is a required key with an optional schema.
 * (An optional key with a required schema is caught by the minimal-header test in schema.test.ts.)
 */
type Shape<T> = {
  [K in keyof T]-?: undefined extends T[K] ? z.ZodType<Exclude<T[K], undefined> | undefined> : z.ZodType<T[K]>;
};

const NON_NEGATIVE_INTEGER = 'must be a non-negative integer';
const EXIF_ORIENTATION = 'must be an EXIF orientation: an integer from 1 to 8';

const nonNegInt = z.int({ error: NON_NEGATIVE_INTEGER }).min(0, { error: NON_NEGATIVE_INTEGER });
const finiteNumber = z.number({ error: 'must be a finite number' });
const nonNegNumber = z
  .number({ error: 'must be a non-negative finite number' })
  .min(0, { error: 'must be a non-negative finite number' });
const nonEmptyString = z.string().min(1, { error: 'must be a non-empty string' });
/** sha256 as 64 lowercase hex digits, or '' when the producer could not compute it. */
const sha256Hex = z
  .string()
  .regex(/^([0-9a-f]{64})?$/, { error: "must be a sha256 digest (64 lowercase hex digits), or '' when unknown" });

/**
 * A TensorStats / Histogram number: a finite number, or NaN when there is no finite element. NaN is
 * written as `null` in header.json (JSON has no NaN) and read back as NaN.
 */
const statNumber = z
  .union([z.number(), z.nan(), z.null()], {
    error: 'must be a finite number, or null when the tensor has no finite value',
  })
  .transform((v) => v ?? NaN);

const dtypeSchema = z.enum(['float32', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool', 'string']);
const clockSchema = z.enum(['wall', 'wall-with-readback', 'gpu-timer-query', 'gpu-timestamp', 'ort-profiler', 'unavailable']);
const shapeSchema = z.array(nonNegInt);

const histogramSchema = z.looseObject({
  min: statNumber,
  max: statNumber,
  counts: z.array(nonNegInt),
} satisfies Shape<Histogram>);

const statsSchema = z.looseObject({
  count: nonNegInt,
  min: statNumber,
  max: statNumber,
  mean: statNumber,
  std: statNumber,
  nanCount: nonNegInt,
  infCount: nonNegInt,
  zeroCount: nonNegInt,
  histogram: histogramSchema,
} satisfies Shape<TensorStats>);

const blobRefSchema = z.looseObject({
  id: z.string().regex(BLOB_ID_PATTERN, {
    error: 'must be a blob id: 1 to 128 characters from [A-Za-z0-9._-], not starting with a dot',
  }),
  encoding: z.enum(['float32', 'int32']),
  length: nonNegInt,
} satisfies Shape<BlobRef>);

const tensorRecordShape = {
  shape: shapeSchema,
  dtype: dtypeSchema,
  stats: statsSchema.optional(),
  blob: blobRefSchema.optional(),
} satisfies Shape<TensorRecord>;

const tensorRecordSchema = z.looseObject(tensorRecordShape);
export const namedTensorSchema = z.looseObject({ ...tensorRecordShape, name: z.string() } satisfies Shape<NamedTensor>);

export const nodeSchema = z.looseObject({
  index: nonNegInt,
  name: nonEmptyString,
  op: z.string(),
  kernels: z.array(nonNegInt),
  outputs: z.array(tensorRecordSchema),
  inputs: z.array(z.string()),
  note: z.string().optional(),
} satisfies Shape<NodeRecord>);

export const kernelSchema = z.looseObject({
  index: nonNegInt,
  name: z.string(),
  node: z.string().nullable(),
  ms: nonNegNumber.nullable(),
  msRange: z.tuple([nonNegNumber, nonNegNumber]).optional(),
  clock: clockSchema,
  inputShapes: z.array(shapeSchema.nullable()),
  outputShapes: z.array(shapeSchema),
} satisfies Shape<KernelRecord>);

const ioSpecSchema = z.looseObject({
  name: z.string(),
  shape: z.array(nonNegInt.nullable()),
  dtype: dtypeSchema,
} satisfies Shape<IOSpec>);

export const modelSchema = z.looseObject({
  name: z.string(),
  format: z.enum(['tfjs-graph', 'tfjs-layers', 'onnx']),
  sha256: sha256Hex,
  inputs: z.array(ioSpecSchema),
  outputs: z.array(ioSpecSchema),
  nodeCount: nonNegInt,
} satisfies Shape<ModelIdentity>);

export const runtimeSchema = z.looseObject({
  name: z.enum(['tfjs', 'onnxruntime-web', 'onnxruntime-node']),
  version: z.string(),
  backend: z.string(),
} satisfies Shape<RuntimeInfo>);

const webglSchema = z.looseObject({
  version: nonNegInt,
  vendor: z.string(),
  renderer: z.string(),
  maxTextureSize: nonNegInt,
  floatTextures: z.boolean(),
} satisfies Shape<WebGLInfo>);

const webgpuSchema = z.looseObject({
  vendor: z.string(),
  architecture: z.string(),
  description: z.string(),
  isFallbackAdapter: z.boolean(),
  features: z.array(z.string()),
  limits: z.record(z.string(), finiteNumber),
} satisfies Shape<WebGPUInfo>);

export const environmentSchema = z.looseObject({
  kind: z.enum(['browser', 'node']),
  userAgent: z.string(),
  platform: z.string(),
  hardwareConcurrency: nonNegInt,
  threads: nonNegInt.optional(),
  crossOriginIsolated: z.boolean().optional(),
  floatPrecision: finiteNumber.optional(),
  flags: z.record(
    z.string(),
    z.union([z.string(), finiteNumber, z.boolean()], { error: 'must be a string, a finite number or a boolean' }),
  ),
  webgl: webglSchema.optional(),
  webgpu: webgpuSchema.optional(),
} satisfies Shape<Environment>);

const preprocessSchema = z.looseObject({
  width: nonNegInt,
  height: nonNegInt,
  resize: z.looseObject({
    method: z.enum(['bilinear', 'nearest', 'area', 'bicubic', 'lanczos3']),
    alignCorners: z.boolean(),
    halfPixelCenters: z.boolean(),
    antialias: z.boolean(),
    prescale: z.enum(['mip-level']).optional(),
  } satisfies Shape<PreprocessSpec['resize']>),
  fit: z.enum(['stretch', 'center-crop', 'letterbox']),
  channels: z.enum(['rgb', 'bgr', 'grayscale']),
  layout: z.enum(['nhwc', 'nchw']),
  scale: finiteNumber,
  mean: z.array(finiteNumber),
  std: z.array(finiteNumber),
  dtype: z.enum(['float32', 'int32', 'uint8']),
  exif: z.enum(['apply', 'ignore']),
  alpha: z.enum(['ignore', 'premultiply']),
  grayWeights: z.tuple([finiteNumber, finiteNumber, finiteNumber]).optional(),
} satisfies Shape<PreprocessSpec>);

const inputSourceSchema = z.looseObject({
  fileName: z.string(),
  sha256: sha256Hex,
  width: nonNegInt,
  height: nonNegInt,
  exifOrientation: z
    .int({ error: EXIF_ORIENTATION })
    .min(1, { error: EXIF_ORIENTATION })
    .max(8, { error: EXIF_ORIENTATION }),
  mimeType: z.string(),
  iccProfile: z.string().optional(),
} satisfies Shape<InputSource>);

export const inputSchema = z.looseObject({
  tensors: z.array(namedTensorSchema),
  source: inputSourceSchema.optional(),
  preprocess: preprocessSchema.optional(),
} satisfies Shape<InputRecord>);

export const timingSchema = z.looseObject({
  warmupRuns: nonNegInt,
  runMs: z.array(nonNegNumber),
  medianMs: nonNegNumber,
  firstRunMs: nonNegNumber,
} satisfies Shape<TimingSummary>);

export const capturePlanSchema = z.looseObject({
  passes: z.int().min(1),
  maxMemoryBytes: nonNegNumber,
  largestPassBytes: nonNegNumber,
  sizesFrom: z.record(z.string(), nonNegInt),
  nodes: z.string().optional(),
  capturedNodes: nonNegInt,
  reason: z.string(),
} satisfies Shape<CapturePlan>);

/** The zod schema of header.json (TraceHeader). Output: a TraceHeader, with `null` stats numbers as NaN. */
export const traceHeaderSchema = z.looseObject({
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  id: nonEmptyString,
  createdAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2025-01-31T12:00:00.000Z' }),
  label: z.string().optional(),
  storagePrecision: z.enum(['float16', 'bfloat16']).optional(),
  capture: z.enum(['timing', 'stats', 'tensors']),
  model: modelSchema,
  runtime: runtimeSchema,
  environment: environmentSchema,
  input: inputSchema,
  timing: timingSchema.optional(),
  nodes: z.array(nodeSchema),
  kernels: z.array(kernelSchema),
  outputs: z.array(namedTensorSchema),
  warnings: z.array(z.string()),
  referenceFor: z.string().optional(),
  capturePlan: capturePlanSchema.optional(),
} satisfies Shape<TraceHeader>);

// The parsed header is a TraceHeader (compile-time check).
type Assert<T extends true> = T;
export type SchemaOutputIsTraceHeader = Assert<z.output<typeof traceHeaderSchema> extends TraceHeader ? true : false>;

// ---------------------------------------------------------------------------------------------
// Header parsing and cross-field rules
// ---------------------------------------------------------------------------------------------

function summarize(problems: string[]): string {
  const first = problems[0] ?? 'invalid header';
  return problems.length > 1 ? `${first} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : first;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks `format` and `version` of a parsed header.json; returns the problem or undefined. */
export function formatVersionProblem(json: unknown): string | undefined {
  if (!isRecord(json)) return `header.json must contain a JSON object (got ${describe(json)})`;
  if (json.format !== TRACE_FORMAT) {
    return json.format === undefined
      ? `not an exray trace: header.json has no "format" field (expected '${TRACE_FORMAT}')`
      : `not an exray trace: format is ${describe(json.format)}, expected '${TRACE_FORMAT}'`;
  }
  if (typeof json.version !== 'number' || !SUPPORTED_VERSIONS.includes(json.version)) {
    const supported = SUPPORTED_VERSIONS.join(', ');
    return json.version === undefined
      ? `header.json has no "version" field; this reader supports version ${supported}`
      : `unsupported version ${describe(json.version)}; this reader supports version ${supported}`;
  }
  return undefined;
}

/**
 * Validates parsed header.json (untrusted) and returns it as a TraceHeader: format and version, then
 * the schema, then the cross-field rules. Throws TraceFormatError naming `file` and the first problem.
 */
export function parseTraceHeader(json: unknown, file: string): TraceHeader {
  const fv = formatVersionProblem(json);
  if (fv !== undefined) throw new TraceFormatError(file, fv);
  if ((json as { version: number }).version !== TRACE_VERSION) {
    // A version-2 header read on its own: the blob layout it describes does not matter here.
    const { blobCodecs: _layout, ...rest } = json as Record<string, unknown>;
    json = { ...rest, version: TRACE_VERSION };
  }
  const result = traceHeaderSchema.safeParse(json, { error: errorMap });
  if (!result.success) {
    throw new TraceFormatError(
      file,
      summarize(result.error.issues.map((i) => `${formatPath(i.path)} ${i.message}`)),
    );
  }
  const header: TraceHeader = result.data;
  const problems = headerProblems(header);
  if (problems.length > 0) throw new TraceFormatError(file, summarize(problems));
  return header;
}

/**
 * Validates an in-memory Trace (before writing it, or after folding events): the header schema,
 * the cross-field rules, and the blobs: every referenced blob present, typed array of the referenced
 * encoding (Float32Array for float32, Int32Array for int32) and length, no unreferenced blob.
 * Throws TraceFormatError(file, first problem).
 */
/**
 * validateTrace for a trace whose blobs were written as they came (src/trace/file-writer.ts): the same
 * rules, each blob known by its encoding and length only.
 */
export function validateStreamedTrace(header: TraceHeader, blobs: ReadonlyMap<string, { encoding: 'float32' | 'int32'; length: number }>, file: string): void {
  const result = traceHeaderSchema.safeParse(header, { error: errorMap });
  if (!result.success) {
    throw new TraceFormatError(file, summarize(result.error.issues.map((i) => `${formatPath(i.path)} ${i.message}`)));
  }
  const problems = headerProblems(header);
  const referenced = new Set<string>();
  for (const { path, ref } of blobUses(header)) {
    if (referenced.has(ref.id)) continue;
    referenced.add(ref.id);
    const b = blobs.get(ref.id);
    if (b === undefined) problems.push(`blob '${ref.id}' referenced by ${path} is missing`);
    else if (b.encoding !== ref.encoding) problems.push(`blob '${ref.id}' is ${b.encoding} but ${path}.encoding is '${ref.encoding}'`);
    else if (b.length !== ref.length) problems.push(`blob '${ref.id}' has ${b.length} elements but ${path}.length is ${ref.length}`);
  }
  for (const id of blobs.keys()) {
    if (!referenced.has(id)) problems.push(`blob '${id}' is not referenced by the header`);
  }
  if (problems.length > 0) throw new TraceFormatError(file, summarize(problems));
}

export function validateTrace(trace: Trace, file: string): void {
  const result = traceHeaderSchema.safeParse(trace.header, { error: errorMap });
  if (!result.success) {
    throw new TraceFormatError(file, summarize(result.error.issues.map((i) => `${formatPath(i.path)} ${i.message}`)));
  }
  const problems = headerProblems(trace.header);
  const referenced = new Set<string>();
  for (const { path, ref } of blobUses(trace.header)) {
    if (referenced.has(ref.id)) continue;
    referenced.add(ref.id);
    const data: unknown = trace.blobs.get(ref.id);
    if (data === undefined) {
      problems.push(`blob '${ref.id}' referenced by ${path} is missing`);
      continue;
    }
    const expected = ref.encoding === 'float32' ? Float32Array : Int32Array;
    if (!(data instanceof expected)) {
      const got = data instanceof Float32Array ? 'a Float32Array' : data instanceof Int32Array ? 'an Int32Array' : describe(data);
      problems.push(`blob '${ref.id}' is ${got} but ${path}.encoding is '${ref.encoding}'`);
    } else if (data.length !== ref.length) {
      problems.push(`blob '${ref.id}' has ${data.length} elements but ${path}.length is ${ref.length}`);
    }
  }
  for (const id of trace.blobs.keys()) {
    if (!referenced.has(id)) problems.push(`blob '${id}' is not referenced by the header`);
  }
  if (problems.length > 0) throw new TraceFormatError(file, summarize(problems));
}
