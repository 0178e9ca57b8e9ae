/**
 * The exray model card: `models/<name>/exray.json`, committed next to the (git-ignored) model files.
 * It says where the model came from and how to feed it / read it. Documented in docs/model-card.md.
 * Pure (schema and parser): the page uses it too. Reading a card from disk is card.ts (Node).
 */
import { z } from 'zod';
import { ExrayInputError } from '../errors.ts';
import type { DType, ModelFormat, PreprocessSpec } from '../trace/types.ts';
import { ACTIVATIONS, BOX_FORMATS, COORDINATE_UNITS, KEYPOINT_COMPONENTS, type OutputKind, type OutputKindSpec } from '../compare/output-kind.ts';

export const CARD_FILE_NAME = 'exray.json';
export const CARD_VERSION = 1 as const;

const DTYPES = ['float32', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool', 'string'] as const satisfies readonly DType[];
const FORMATS = ['tfjs-graph', 'tfjs-layers', 'onnx'] as const satisfies readonly ModelFormat[];
export const OUTPUT_MEANINGS = ['classification', 'detection', 'keypoints', 'regression', 'embedding', 'mask', 'image', 'audio', 'other'] as const;

const nonEmpty = z.string().min(1);
const finite = z.number().refine(Number.isFinite, { message: 'must be a finite number' });
const dim = z.union([z.number().int().positive(), z.null()]);

export const preprocessSpecSchema = z.strictObject({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  resize: z.strictObject({
    method: z.enum(['bilinear', 'nearest', 'area', 'bicubic', 'lanczos3']),
    alignCorners: z.boolean(),
    halfPixelCenters: z.boolean(),
    antialias: z.boolean(),
    prescale: z.enum(['mip-level']).optional(),
  }),
  fit: z.enum(['stretch', 'center-crop', 'letterbox']),
  channels: z.enum(['rgb', 'bgr', 'grayscale']),
  layout: z.enum(['nhwc', 'nchw']),
  scale: finite,
  mean: z.array(finite),
  std: z.array(finite),
  dtype: z.enum(['float32', 'int32', 'uint8']),
  exif: z.enum(['apply', 'ignore']),
  alpha: z.enum(['ignore', 'premultiply']),
  grayWeights: z.tuple([finite, finite, finite]).optional(),
});

export const cardInputSchema = z.strictObject({
  name: nonEmpty,
  shape: z.array(dim),
  dtype: z.enum(DTYPES),
  kind: z.enum(['image', 'tensor']),
  preprocess: preprocessSpecSchema.optional(),
  /** Free text: what the spec cannot say (pad value, integer cast rounding, the package's dynamic sizing...). */
  notes: z.string().optional(),
  /**
   * `kind: "tensor"` only: the value a default tensor of this input is filled with (symbolic dimensions
   * 1), e.g. a recurrent state's zeros or a sample rate. The page offers it as the input's default.
   */
  fill: finite.optional(),
});

const positiveInt = z.number().int().positive();

export const cardOutputSchema = z.strictObject({
  name: nonEmpty,
  shape: z.array(dim),
  dtype: z.enum(DTYPES),
  meaning: z.enum(OUTPUT_MEANINGS),
  labels: z.array(z.string()).optional(),
  decoding: z.string().optional(),
  /** `classification` / `mask`: probabilities (`softmax`, `sigmoid`) or raw logits (`none`). */
  activation: z.enum(ACTIVATIONS).optional(),
  /** `detection`: where the boxes are, so they are compared by IoU. */
  boxes: z
    .strictObject({
      format: z.enum(BOX_FORMATS),
      units: z.enum(COORDINATE_UNITS),
      stride: positiveInt.optional(),
      offset: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /** `keypoints`: what each point's values are, and their units (pixels of the input, or 0..1 of it). */
  keypoints: z
    .strictObject({
      components: z.array(z.enum(KEYPOINT_COMPONENTS)).min(2),
      units: z.enum(COORDINATE_UNITS),
      width: positiveInt.optional(),
      height: positiveInt.optional(),
    })
    .optional(),
});

export const modelCardSchema = z.strictObject({
  cardVersion: z.literal(CARD_VERSION),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { message: 'must be lower-case letters, digits, ".", "_" or "-"' }),
  description: nonEmpty,
  source: z.strictObject({
    package: nonEmpty,
    version: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, { message: 'must be an exact version like 4.3.0' }),
    path: nonEmpty,
    license: nonEmpty,
  }),
  format: z.enum(FORMATS),
  modelFile: nonEmpty,
  execution: z.enum(['sync', 'async']),
  inputs: z.array(cardInputSchema).min(1),
  outputs: z.array(cardOutputSchema).min(1),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type CardInput = z.infer<typeof cardInputSchema>;
export type CardOutput = z.infer<typeof cardOutputSchema>;
export type OutputMeaning = (typeof OUTPUT_MEANINGS)[number];

// The schema and the shared contract must describe the same object, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const preprocessMatchesContract: Same<z.infer<typeof preprocessSpecSchema>, PreprocessSpec> = true;
void preprocessMatchesContract;

/** `inputs[0].preprocess.mean` style path. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out === '' ? 'card' : out;
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of p) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

function issueText(issue: z.core.$ZodIssue, json: unknown): string {
  const where = formatPath(issue.path);
  const got = valueAt(json, issue.path);
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union') && got === undefined) {
    return `${where} is required`;
  }
  switch (issue.code) {
    case 'invalid_type':
      return `${where} must be ${issue.expected === 'int' ? 'an integer' : issue.expected}, got ${describe(got)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `${where} must be ${JSON.stringify(issue.values[0])}, got ${describe(got)}`
        : `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(got)}`;
    case 'unrecognized_keys':
      return `${where} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `${where} must have at least ${String(issue.minimum)} entr${issue.minimum === 1 ? 'y' : 'ies'}`;
      if (issue.origin === 'string') return `${where} must not be empty`;
      return `${where} must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${describe(got)}`;
    case 'too_big':
      if (issue.origin === 'array') return `${where} must have at most ${String(issue.maximum)} entries`;
      return `${where} must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${describe(got)}`;
    case 'invalid_format':
    case 'custom':
      return `${where} ${issue.message}`;
    case 'invalid_union':
      return `${where} must be a positive integer or null, got ${describe(got)}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

const CHANNEL_COUNT: Record<PreprocessSpec['channels'], number> = { rgb: 3, bgr: 3, grayscale: 1 };
const INTEGER_DTYPES: readonly DType[] = ['int32', 'int64', 'int8', 'uint8'];

/** Cross-field checks the schema cannot express. Returns problems as `path message` strings. */
export function cardProblems(card: ModelCard): string[] {
  const problems: string[] = [];
  const add = (p: PropertyKey[], msg: string): void => {
    problems.push(`${formatPath(p)} ${msg}`);
  };

  const mf = card.modelFile;
  if (mf.includes('..') || mf.startsWith('/') || mf.includes('\\') || /^[a-z]+:/i.test(mf)) {
    add(['modelFile'], `must be a file name inside the model directory, got ${JSON.stringify(mf)}`);
  } else if (card.format === 'onnx' ? !mf.endsWith('.onnx') : !mf.endsWith('.json')) {
    add(['modelFile'], `must end with ${card.format === 'onnx' ? '".onnx"' : '".json"'} for format "${card.format}"`);
  }
  if (card.format === 'tfjs-layers' && card.execution !== 'sync') {
    add(['execution'], 'must be "sync" for format "tfjs-layers" (a LayersModel has no executeAsync)');
  }

  const seen = new Set<string>();
  card.inputs.forEach((input, i) => {
    const base: PropertyKey[] = ['inputs', i];
    if (seen.has(input.name)) add([...base, 'name'], `duplicates input name ${JSON.stringify(input.name)}`);
    seen.add(input.name);
    const pp = input.preprocess;
    if (input.kind === 'image' && !pp) {
      add([...base, 'preprocess'], 'is required for kind "image"');
      return;
    }
    if (input.kind === 'tensor' && pp) {
      add([...base, 'preprocess'], 'is only allowed for kind "image"');
      return;
    }
    if (input.fill !== undefined) {
      if (input.kind !== 'tensor') add([...base, 'fill'], 'is only allowed for kind "tensor"');
      else if (INTEGER_DTYPES.includes(input.dtype) && !Number.isInteger(input.fill)) add([...base, 'fill'], `must be an integer for dtype "${input.dtype}", got ${input.fill}`);
    }
    if (!pp) return;
    const at = (...k: PropertyKey[]): PropertyKey[] => [...base, 'preprocess', ...k];
    const nc = CHANNEL_COUNT[pp.channels];
    const plural = nc === 1 ? 'entry' : 'entries';
    if (pp.mean.length !== nc) add(at('mean'), `must have ${nc} ${plural} for channels "${pp.channels}", got ${pp.mean.length}`);
    if (pp.std.length !== nc) add(at('std'), `must have ${nc} ${plural} for channels "${pp.channels}", got ${pp.std.length}`);
    pp.std.forEach((s, c) => {
      if (s === 0) add(at('std', c), 'must not be 0');
    });
    if (!(pp.scale > 0)) add(at('scale'), `must be > 0, got ${pp.scale}`);
    if (pp.channels === 'grayscale' && !pp.grayWeights) add(at('grayWeights'), 'is required for channels "grayscale"');
    if (pp.channels !== 'grayscale' && pp.grayWeights) add(at('grayWeights'), `is only meaningful for channels "grayscale", not "${pp.channels}"`);
    if (pp.resize.alignCorners && pp.resize.halfPixelCenters) add(at('resize'), 'cannot have both alignCorners and halfPixelCenters true');
    if (pp.resize.method === 'area' && (pp.resize.alignCorners || pp.resize.halfPixelCenters)) {
      add(at('resize'), 'method "area" takes neither alignCorners nor halfPixelCenters');
    }
    if (pp.resize.prescale === 'mip-level' && (pp.resize.method !== 'bilinear' || !pp.resize.halfPixelCenters || pp.resize.antialias)) {
      add(at('resize'), 'prescale "mip-level" (canvas drawImage) goes with method "bilinear", halfPixelCenters true and antialias false');
    }
    if ((pp.resize.method === 'bicubic' || pp.resize.method === 'lanczos3') && pp.resize.alignCorners) {
      add(at('resize'), `method "${pp.resize.method}" samples at pixel centres: alignCorners must be false`);
    }
    if (pp.dtype === 'float32' && input.dtype !== 'float32' && input.dtype !== 'float16') {
      add(at('dtype'), `"float32" cannot feed an input of dtype "${input.dtype}"`);
    }
    if (pp.dtype !== 'float32' && !INTEGER_DTYPES.includes(input.dtype)) {
      add(at('dtype'), `"${pp.dtype}" cannot feed an input of dtype "${input.dtype}"`);
    }
    // The image input's shape must agree with the spec wherever the model fixes a dimension.
    if (input.shape.length !== 4) {
      add([...base, 'shape'], `must have 4 dimensions for an image input (${pp.layout}), got ${input.shape.length}`);
      return;
    }
    const [hAxis, wAxis, cAxis] = pp.layout === 'nhwc' ? [1, 2, 3] : [2, 3, 1];
    const check = (axis: number, want: number, what: string): void => {
      const d = input.shape[axis];
      if (d !== null && d !== undefined && d !== want) {
        add([...base, 'shape', axis], `is ${d} but preprocess ${what} is ${want} (layout "${pp.layout}")`);
      }
    };
    check(hAxis, pp.height, 'height');
    check(wAxis, pp.width, 'width');
    check(cAxis, nc, `channels "${pp.channels}" count`);
  });

  const seenOut = new Set<string>();
  card.outputs.forEach((output, i) => {
    const base: PropertyKey[] = ['outputs', i];
    if (seenOut.has(output.name)) add([...base, 'name'], `duplicates output name ${JSON.stringify(output.name)}`);
    seenOut.add(output.name);
    if (output.labels) {
      if (output.labels.length === 0) add([...base, 'labels'], 'must not be empty when present');
      if (new Set(output.labels).size !== output.labels.length) add([...base, 'labels'], 'must not contain duplicates');
      const last = output.shape[output.shape.length - 1];
      if (output.meaning === 'classification' && last !== null && last !== undefined && last !== output.labels.length) {
        add([...base, 'labels'], `has ${output.labels.length} entries but the last dimension of shape is ${last}`);
      }
    }
    if (output.activation && output.meaning !== 'classification' && output.meaning !== 'mask') {
      add([...base, 'activation'], `is only meaningful for meaning "classification" or "mask", not "${output.meaning}"`);
    }
    if (output.boxes) {
      const b = output.boxes;
      if (output.meaning !== 'detection') add([...base, 'boxes'], `is only meaningful for meaning "detection", not "${output.meaning}"`);
      const last = output.shape[output.shape.length - 1];
      const stride = b.stride ?? last;
      if (stride !== null && stride !== undefined && (b.offset ?? 0) + 4 > stride) {
        add([...base, 'boxes'], `needs 4 values from offset ${b.offset ?? 0} in rows of ${stride}`);
      }
    }
    if (output.keypoints) {
      const k = output.keypoints;
      if (output.meaning !== 'keypoints') add([...base, 'keypoints'], `is only meaningful for meaning "keypoints", not "${output.meaning}"`);
      for (const c of ['x', 'y'] as const) {
        if (k.components.filter((x) => x === c).length !== 1) add([...base, 'keypoints', 'components'], `must name "${c}" exactly once`);
      }
      if ((k.width === undefined) !== (k.height === undefined)) add([...base, 'keypoints'], 'needs both width and height, or neither');
    }
  });
  return problems;
}

/** Validate an already-parsed card; `fileName` names it in errors. */
export function parseModelCard(json: unknown, fileName: string): ModelCard {
  const r = modelCardSchema.safeParse(json);
  if (!r.success) {
    throw new ExrayInputError(fileName, r.error.issues.map((iss) => issueText(iss, json)).join('; '));
  }
  const problems = cardProblems(r.data);
  if (problems.length > 0) throw new ExrayInputError(fileName, problems.join('; '));
  return r.data;
}


const KIND_OF_MEANING: Record<OutputMeaning, OutputKind> = {
  classification: 'scores',
  detection: 'boxes',
  keypoints: 'keypoints',
  regression: 'regression',
  embedding: 'embedding',
  mask: 'mask',
  image: 'image',
  audio: 'audio',
  other: 'other',
};

/**
 * What the card says each output is, for the comparison (CompareOptions.outputKinds), by output name.
 * Normalized keypoints without their own width/height take the card's image input size, so distances
 * are also given in input pixels.
 */
export function cardOutputKinds(card: ModelCard): Record<string, OutputKindSpec> {
  const pp = card.inputs.find((i) => i.kind === 'image' && i.preprocess)?.preprocess;
  const kinds: Record<string, OutputKindSpec> = {};
  for (const o of card.outputs) {
    const spec: OutputKindSpec = { kind: KIND_OF_MEANING[o.meaning] };
    if (o.activation) spec.activation = o.activation;
    if (o.boxes) spec.boxes = { ...o.boxes };
    if (o.keypoints) {
      const k = o.keypoints;
      const size = k.width !== undefined && k.height !== undefined ? { width: k.width, height: k.height } : k.units === 'normalized' && pp ? { width: pp.width, height: pp.height } : {};
      spec.keypoints = { components: [...k.components], units: k.units, ...size };
    }
    kinds[o.name] = spec;
  }
  return kinds;
}
