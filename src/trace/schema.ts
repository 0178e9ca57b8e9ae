/**
 * Validation of trace headers and in-memory traces. Pure: no DOM, no Node.
 *
 * Three layers, all reported as TraceFormatError(file, problem):
 * 1. `format` / `version` (checked first, so an unsupported version is named as such),
 * 2. the zod schema `traceHeaderSchema` (types, enums, ranges; the problem names the JSON path),
 * 3. cross-field rules (`headerProblems`): execution order, unique node names, kernel indices in range,
 *    kernel <-> node attribution, shape products vs blob lengths and stats counts, blob references that
 *    agree with each other.
 *
 * Unknown fields are accepted at every level and preserved (a v1 writer may add optional fields;
 * see docs/trace-format.md "Versioning"). An unknown `version` is rejected.
 */
import { z } from 'zod';
import { TraceFormatError } from './errors.ts';
import { BLOB_ID_PATTERN } from './ids.ts';
import { TRACE_FORMAT, TRACE_VERSION } from './types.ts';
import type {
  BlobRef,
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

/** Header versions this reader accepts. */
export const SUPPORTED_VERSIONS: readonly number[] = [TRACE_VERSION];

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
const namedTensorSchema = z.looseObject({ ...tensorRecordShape, name: z.string() } satisfies Shape<NamedTensor>);

const nodeSchema = z.looseObject({
  index: nonNegInt,
  name: nonEmptyString,
  op: z.string(),
  kernels: z.array(nonNegInt),
  outputs: z.array(tensorRecordSchema),
  inputs: z.array(z.string()),
} satisfies Shape<NodeRecord>);

const kernelSchema = z.looseObject({
  index: nonNegInt,
  name: z.string(),
  node: z.string().nullable(),
  ms: nonNegNumber.nullable(),
  clock: clockSchema,
  inputShapes: z.array(shapeSchema.nullable()),
  outputShapes: z.array(shapeSchema),
} satisfies Shape<KernelRecord>);

const ioSpecSchema = z.looseObject({
  name: z.string(),
  shape: z.array(nonNegInt.nullable()),
  dtype: dtypeSchema,
} satisfies Shape<IOSpec>);

const modelSchema = z.looseObject({
  name: z.string(),
  format: z.enum(['tfjs-graph', 'tfjs-layers', 'onnx']),
  sha256: sha256Hex,
  inputs: z.array(ioSpecSchema),
  outputs: z.array(ioSpecSchema),
  nodeCount: nonNegInt,
} satisfies Shape<ModelIdentity>);

const runtimeSchema = z.looseObject({
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

const environmentSchema = z.looseObject({
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
    method: z.enum(['bilinear', 'nearest', 'area']),
    alignCorners: z.boolean(),
    halfPixelCenters: z.boolean(),
    antialias: z.boolean(),
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
} satisfies Shape<InputSource>);

const inputSchema = z.looseObject({
  tensors: z.array(namedTensorSchema),
  source: inputSourceSchema.optional(),
  preprocess: preprocessSchema.optional(),
} satisfies Shape<InputRecord>);

const timingSchema = z.looseObject({
  warmupRuns: nonNegInt,
  runMs: z.array(nonNegNumber),
  medianMs: nonNegNumber,
  firstRunMs: nonNegNumber,
} satisfies Shape<TimingSummary>);

/** The zod schema of header.json (TraceHeader). Output: a TraceHeader, with `null` stats numbers as NaN. */
export const traceHeaderSchema = z.looseObject({
  format: z.literal(TRACE_FORMAT),
  version: z.literal(TRACE_VERSION),
  id: nonEmptyString,
  createdAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2025-01-31T12:00:00.000Z' }),
  label: z.string().optional(),
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
} satisfies Shape<TraceHeader>);

// The parsed header is a TraceHeader (compile-time check).
type Assert<T extends true> = T;
export type SchemaOutputIsTraceHeader = Assert<z.output<typeof traceHeaderSchema> extends TraceHeader ? true : false>;

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** `nodes[12].outputs[0].shape[1]`, `environment.flags["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? 'the header' : out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `${value}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a finite number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
  nan: 'NaN',
  tuple: 'an array',
  record: 'an object',
};

/** Messages for issues that the schema does not word itself. */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.input === undefined && (iss.code === 'invalid_type' || iss.code === 'invalid_value' || iss.code === 'invalid_union')) {
    return 'is required';
  }
  switch (iss.code) {
    case 'invalid_type':
      return `must be ${EXPECTED[iss.expected] ?? iss.expected} (got ${describe(iss.input)})`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `must be ${quoteList(iss.values)} (got ${describe(iss.input)})`
        : `must be one of ${quoteList(iss.values)} (got ${describe(iss.input)})`;
    case 'too_small':
      if (iss.origin === 'array') return `must have at least ${iss.minimum} items`;
      if (iss.origin === 'string') return `must have at least ${iss.minimum} characters`;
      return `must be >= ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'array') return `must have at most ${iss.maximum} items`;
      if (iss.origin === 'string') return `must have at most ${iss.maximum} characters`;
      return `must be <= ${iss.maximum}`;
    default:
      return undefined;
  }
};

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

/** Every place a header references a blob, with its JSON path. */
export interface BlobUse {
  path: string;
  ref: BlobRef;
  shape: number[];
}

/** All blob references of a header, in header order (input tensors, node outputs, model outputs). */
export function blobUses(header: TraceHeader): BlobUse[] {
  const uses: BlobUse[] = [];
  header.input.tensors.forEach((t, i) => {
    if (t.blob) uses.push({ path: `input.tensors[${i}].blob`, ref: t.blob, shape: t.shape });
  });
  header.nodes.forEach((n, i) => {
    n.outputs.forEach((t, j) => {
      if (t.blob) uses.push({ path: `nodes[${i}].outputs[${j}].blob`, ref: t.blob, shape: t.shape });
    });
  });
  header.outputs.forEach((t, i) => {
    if (t.blob) uses.push({ path: `outputs[${i}].blob`, ref: t.blob, shape: t.shape });
  });
  return uses;
}

function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

const MAX_PROBLEMS = 1000;

function tensorProblems(t: TensorRecord, path: string, out: string[]): void {
  const size = shapeSize(t.shape);
  if (t.blob && t.blob.length !== size) {
    out.push(`${path}.blob.length is ${t.blob.length} but shape ${shapeText(t.shape)} has ${size} elements`);
  }
  const s = t.stats;
  if (!s) return;
  if (s.count !== size) {
    out.push(`${path}.stats.count is ${s.count} but shape ${shapeText(t.shape)} has ${size} elements`);
  }
  const finite = s.count - s.nanCount - s.infCount;
  if (finite < 0) out.push(`${path}.stats: nanCount + infCount (${s.nanCount + s.infCount}) exceeds count (${s.count})`);
  if (s.zeroCount > Math.max(0, finite)) {
    out.push(`${path}.stats.zeroCount (${s.zeroCount}) exceeds the number of finite values (${Math.max(0, finite)})`);
  }
  const binned = s.histogram.counts.reduce((a, b) => a + b, 0);
  if (finite >= 0 && binned !== finite) {
    out.push(`${path}.stats.histogram.counts sum to ${binned} but the tensor has ${finite} finite values`);
  }
  const nanFields = (['min', 'max', 'mean', 'std'] as const).filter((k) => Number.isNaN(s[k]));
  if (finite > 0 && nanFields.length > 0) {
    out.push(`${path}.stats.${nanFields[0]} is null but the tensor has ${finite} finite values`);
  }
  if (finite === 0 && nanFields.length < 4) {
    out.push(`${path}.stats: min, max, mean and std must be null when the tensor has no finite value`);
  }
  if (s.min > s.max) out.push(`${path}.stats.min (${s.min}) is greater than stats.max (${s.max})`);
}

/**
 * Cross-field rules of a schema-valid header; returns every problem found (empty when valid).
 * Exported for producers that want to check a header before writing it.
 */
export function headerProblems(h: TraceHeader): string[] {
  const out: string[] = [];
  const nodeByName = new Map<string, number>();
  h.nodes.forEach((n, i) => {
    const prevIndex = i > 0 ? h.nodes[i - 1]!.index : -1;
    if (n.index <= prevIndex) {
      out.push(`nodes[${i}].index is ${n.index}, not greater than nodes[${i - 1}].index (${prevIndex}); nodes must be stored in execution order`);
    }
    const prev = nodeByName.get(n.name);
    if (prev !== undefined) out.push(`nodes[${i}].name '${n.name}' duplicates nodes[${prev}].name`);
    else nodeByName.set(n.name, i);
  });
  h.kernels.forEach((k, i) => {
    if (k.index !== i) {
      out.push(`kernels[${i}].index is ${k.index}; kernels must be stored in execution order, index equal to position`);
    }
    if (k.clock === 'unavailable' && k.ms !== null) out.push(`kernels[${i}].ms must be null when clock is 'unavailable'`);
    if (k.clock !== 'unavailable' && k.ms === null) {
      out.push(`kernels[${i}].ms is null but clock is '${k.clock}' (null is only allowed with clock 'unavailable')`);
    }
  });
  h.nodes.forEach((n, i) => {
    n.kernels.forEach((ki, j) => {
      const k = h.kernels[ki];
      if (k === undefined) {
        out.push(`nodes[${i}].kernels[${j}] is ${ki}, out of range: the trace has ${h.kernels.length} kernels`);
      } else if (k.node !== n.name) {
        out.push(`nodes[${i}].kernels[${j}] is kernel ${ki}, whose node is ${k.node === null ? 'null' : `'${k.node}'`}, not '${n.name}'`);
      }
    });
    n.outputs.forEach((t, j) => tensorProblems(t, `nodes[${i}].outputs[${j}]`, out));
  });
  h.input.tensors.forEach((t, i) => {
    if (!t.blob) out.push(`input.tensors[${i}].blob is required (input tensors always carry their values)`);
    tensorProblems(t, `input.tensors[${i}]`, out);
  });
  h.outputs.forEach((t, i) => {
    if (!t.blob) out.push(`outputs[${i}].blob is required (model outputs always carry their values)`);
    tensorProblems(t, `outputs[${i}]`, out);
  });
  const firstUse = new Map<string, BlobUse>();
  for (const use of blobUses(h)) {
    const prev = firstUse.get(use.ref.id);
    if (prev === undefined) firstUse.set(use.ref.id, use);
    else if (prev.ref.encoding !== use.ref.encoding || prev.ref.length !== use.ref.length) {
      out.push(
        `${use.path} references blob '${use.ref.id}' as ${use.ref.encoding}[${use.ref.length}] but ${prev.path} references it as ${prev.ref.encoding}[${prev.ref.length}]`,
      );
    }
    if (out.length >= MAX_PROBLEMS) break;
  }
  return out;
}

/**
 * Validates an in-memory Trace (before writing it, or after folding events): the header schema,
 * the cross-field rules, and the blobs: every referenced blob present, typed array of the referenced
 * encoding (Float32Array for float32, Int32Array for int32) and length, no unreferenced blob.
 * Throws TraceFormatError(file, first problem).
 */
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
