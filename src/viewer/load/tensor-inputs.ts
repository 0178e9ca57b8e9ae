/**
 * Model inputs given as tensors (not as a photo): audio frames, recurrent state, a sample rate… One
 * slot per such input of an ONNX model; each is filled from a `.npy` / `.json` tensor file, the card's
 * `fill` default, zeros, or a bundled sample set (`public/samples/tensors/<model>/sets.json`). Every
 * tensor is checked against the model input it feeds; a problem names the file.
 */
import { ExrayInputError } from '../../errors.ts';
import { ortInputData } from '../../instrument/ort/tensors.ts';
import type { CardInput, ModelCard } from '../../models/card-schema.ts';
import { parseTensorFile, tensorInputProblem, type FeedTensor } from '../../trace/tensor-file.ts';
import type { IOSpec } from '../../trace/types.ts';
import type { InputPayload } from '../worker/protocol.ts';

/** A model input the page feeds with a tensor. */
export interface TensorInputSpec extends IOSpec {
  /** False when the model declares no shape (any rank is accepted). */
  rankKnown: boolean;
  /** onnxruntime's type name for the declared element type (`float32`, `int64`, …), if known. */
  ortType?: string;
  /** The card's entry for this input, if any. */
  card?: CardInput;
}

export interface TensorSummary {
  min: number;
  max: number;
  mean: number;
}

/** A tensor given for one input, and where it came from (`speech_input.npy`, `card default 16000`). */
export interface GivenTensor extends FeedTensor {
  origin: string;
  stats: TensorSummary;
}

/** One slot's state: the tensor given, or the last problem (the previous tensor is dropped). */
export interface TensorSlot {
  tensor: GivenTensor | null;
  error: string | null;
}

/** A bundled set of input tensors for a sample model: input name → file under `samples/tensors/<model>/`. */
export interface TensorSampleSet {
  name: string;
  description?: string;
  files: Record<string, string>;
}

export function summarize(data: ArrayLike<number>): TensorSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return data.length === 0 ? { min: NaN, max: NaN, mean: NaN } : { min, max, mean: sum / data.length };
}

/**
 * Check a tensor against its slot: shape, rank, dtype family, and that its values fit the declared
 * element type (an int64 sample rate, a uint8 image…). Returns it named as the slot, with its summary.
 */
export function checkForSlot(spec: TensorInputSpec, t: FeedTensor, origin: string, fileName: string): GivenTensor {
  const problem = tensorInputProblem(spec, t, spec.rankKnown);
  if (problem) throw new ExrayInputError(fileName, `input "${spec.name}": ${problem}`);
  if (spec.ortType) {
    try {
      ortInputData({ ...t, name: spec.name }, spec.ortType);
    } catch (e) {
      throw new ExrayInputError(fileName, e instanceof Error ? e.message : String(e));
    }
  }
  return { ...t, name: spec.name, origin, stats: summarize(t.data) };
}

/**
 * The tensors in one file, assigned to slots: an `.npy` (or one unnamed JSON tensor) feeds `target`
 * (or the slot named like the file: `state.npy` → `state`); named JSON tensors feed the slots of
 * their names. Throws an ExrayInputError naming the file.
 */
export function tensorsFromFile(bytes: Uint8Array, fileName: string, specs: TensorInputSpec[], target?: string): GivenTensor[] {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  const fallback = target ?? specs.find((s) => s.name === base)?.name;
  const tensors = parseTensorFile(bytes, fileName, fallback ?? '');
  return tensors.map((t) => {
    const name = t.name || fallback;
    const spec = specs.find((s) => s.name === name) ?? (tensors.length === 1 && target ? specs.find((s) => s.name === target) : undefined);
    if (!spec) {
      const which = name ? `has a tensor named "${name}", which is not an input of the model` : 'does not say which input it feeds';
      throw new ExrayInputError(fileName, `${which} (inputs: ${specs.map((s) => s.name).join(', ')}); drop it on an input's row`);
    }
    return checkForSlot(spec, t, fileName.replace(/^.*[\\/]/, ''), fileName);
  });
}

/** The card's default for a slot: its `fill` value over the declared shape (symbolic dimensions 1). */
export function cardDefault(spec: TensorInputSpec): GivenTensor | null {
  const fill = spec.card?.fill;
  if (fill === undefined) return null;
  return filled(spec, fill, `card default ${fill}`);
}

/** Zeros over the declared shape, when at most one dimension (the batch) is symbolic: it is 1. */
export function zerosFor(spec: TensorInputSpec): GivenTensor | null {
  if (!spec.rankKnown || spec.shape.filter((d) => d === null).length > 1) return null;
  return filled(spec, 0, 'zeros');
}

function filled(spec: TensorInputSpec, value: number, origin: string): GivenTensor {
  const shape = spec.shape.map((d) => d ?? 1);
  const n = shape.reduce((a, b) => a * b, 1);
  const integer = spec.dtype !== 'float32' && spec.dtype !== 'float16';
  const data = integer ? new Int32Array(n).fill(value) : new Float32Array(n).fill(value);
  return { name: spec.name, shape, dtype: integer ? (spec.dtype === 'int64' ? 'int64' : 'int32') : 'float32', data, origin, stats: summarize(data) };
}

/** Slots at model load: the card's defaults filled in, the rest empty. */
export function initialSlots(specs: TensorInputSpec[]): Record<string, TensorSlot> {
  return Object.fromEntries(specs.map((s) => [s.name, { tensor: cardDefault(s), error: null }]));
}

/** URL of a file of a sample tensor set. */
export function sampleTensorUrl(model: string, file: string): string {
  return `samples/tensors/${encodeURIComponent(model)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

/** Which model inputs take a tensor (not the photo): every ONNX input but the image one. */
export function tensorInputSpecs(inputs: IOSpec[], rankOf: (name: string) => number | undefined, ortTypeOf: (name: string) => string | undefined, card: ModelCard | null, imageName: string | undefined): TensorInputSpec[] {
  return inputs
    .filter((i) => i.name !== imageName)
    .map((i) => {
      const c = card?.inputs.find((x) => x.name === i.name);
      const ortType = ortTypeOf(i.name);
      return { ...i, rankKnown: rankOf(i.name) !== undefined, ...(ortType ? { ortType } : {}), ...(c ? { card: c } : {}) };
    });
}

/** Why the tensors cannot run yet (the first input without one), or null. */
export function tensorsProblem(specs: TensorInputSpec[] | undefined, slots: Record<string, TensorSlot>): string | null {
  for (const spec of specs ?? []) {
    const slot = slots[spec.name];
    if (!slot?.tensor) return slot?.error ?? `give a tensor for input "${spec.name}"`;
  }
  return null;
}

/**
 * The worker's input: the photo's tensor (named as the image input) with the given tensors as
 * `others`; without an image input, the first float32 / int32 tensor is the main one.
 */
export function runInput(model: { format: string; inputName?: string; tensorInputs?: TensorInputSpec[] }, photo: InputPayload | null, slots: Record<string, TensorSlot>): InputPayload {
  const given = (model.tensorInputs ?? []).flatMap((spec) => {
    const t = slots[spec.name]?.tensor;
    return t ? [{ name: t.name, data: t.data, shape: t.shape, dtype: t.dtype }] : [];
  });
  if (photo) {
    const named = model.format === 'onnx' && model.inputName ? { ...photo, name: model.inputName } : photo;
    return given.length > 0 ? { ...named, others: given } : named;
  }
  const k = Math.max(0, given.findIndex((t) => t.dtype === 'float32' || t.dtype === 'int32'));
  const main = given[k];
  if (!main) throw new Error('no input tensors given');
  return {
    name: main.name,
    data: main.data,
    shape: main.shape,
    dtype: main.data instanceof Float32Array ? 'float32' : 'int32',
    others: given.filter((_, i) => i !== k),
  };
}
