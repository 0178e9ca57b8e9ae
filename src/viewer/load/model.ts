/**
 * A model the page can run: parsed model.json, its weight shards in manifest order, its card (if any)
 * and the identity hash. Built from dropped / picked files (model-files.ts) or a bundled sample
 * (samples.ts).
 */
import type { CompareOptions } from '../../compare/types.ts';
import { cardOutputKinds, type ModelCard } from '../../models/card-schema.ts';
import type { PreprocessSpec } from '../../trace/types.ts';
import type { TensorInputSpec } from './tensor-inputs.ts';

export interface LoadedModel {
  name: string;
  /** Where it came from: a bundled `sample`, the user's `files`, or exray serve's model store (`server`). */
  origin: 'sample' | 'files' | 'server';
  card: ModelCard | null;
  modelJson: Record<string, unknown>;
  /** TF.js: model.json as read (the identity hash is over these bytes): what an upload sends. */
  modelJsonBytes?: ArrayBuffer;
  /** Shards in manifest order. */
  shards: ArrayBuffer[];
  shardNames: string[];
  bytes: number;
  /** sha256 over model.json bytes then every shard in manifest order. */
  sha256: string;
  format: 'tfjs-graph' | 'tfjs-layers' | 'onnx';
  /** ONNX models: the `.onnx` bytes (`modelJson` is then empty and `shards` too). */
  onnx?: ArrayBuffer;
  /** ONNX models: the model input the prepared photo feeds (absent: the model takes no image). */
  inputName?: string;
  /** ONNX models: every other model input, fed with a tensor (file, card default, sample set). */
  tensorInputs?: TensorInputSpec[];
  /** First model input as the topology declares it. */
  inputShape: (number | null)[];
  inputDtype: string;
  /** Files given but not used (not part of the model). */
  ignored: string[];
}

/** Does the model take a photo? TF.js models always; ONNX models when one input is the image. */
export function hasImageInput(m: LoadedModel): boolean {
  return m.format !== 'onnx' || m.inputName !== undefined;
}

/** A problem with one file, said plainly. */
export interface FileProblem {
  file: string;
  problem: string;
}

export class ModelLoadError extends Error {
  constructor(readonly problems: FileProblem[]) {
    super(problems.map((p) => `${p.file}: ${p.problem}`).join('\n'));
    this.name = 'ModelLoadError';
  }
}

export { sha256Hex } from '../../trace/sha256.ts';

/** The image input's pre-processing from the card, if the card has one. */
export function cardPreprocess(card: ModelCard | null): PreprocessSpec | null {
  const input = card?.inputs.find((i) => i.kind === 'image' && i.preprocess);
  return input?.preprocess ?? null;
}

/** Class labels of the first classification output with labels. */
export function cardLabels(card: ModelCard | null): string[] | undefined {
  return card?.outputs.find((o) => o.meaning === 'classification' && o.labels)?.labels;
}

/**
 * Outputs to judge by top-k: the card's `classification` outputs (as TF.js may name them, with or
 * without `:0`); undefined without a card (compareTraces then guesses from the shapes).
 */
export function cardClassifierOutputs(card: ModelCard | null): string[] | undefined {
  if (!card) return undefined;
  return card.outputs.filter((o) => o.meaning === 'classification').flatMap((o) => [o.name, `${o.name}:0`]);
}

/** Compare options that come from a model card: class labels, which outputs are classifiers, and every output's kind. */
export function cardCompareOptions(card: ModelCard | null): Pick<CompareOptions, 'labels' | 'classifierOutputs' | 'outputKinds'> {
  const labels = cardLabels(card);
  const classifierOutputs = cardClassifierOutputs(card);
  return { ...(labels ? { labels } : {}), ...(classifierOutputs ? { classifierOutputs } : {}), ...(card ? { outputKinds: cardOutputKinds(card) } : {}) };
}

/** A reasonable spec for a model without card: from its input shape and dtype. The user edits it. */
export function guessPreprocess(shape: (number | null)[], dtype: string): PreprocessSpec {
  const dims = shape.length === 4 ? shape : [1, 224, 224, 3];
  const nchw = dims[1] === 3 || dims[1] === 1;
  const [h, w, c] = nchw ? [dims[2], dims[3], dims[1]] : [dims[1], dims[2], dims[3]];
  const integer = dtype === 'int32' || dtype === 'uint8';
  const gray = c === 1;
  return {
    width: w ?? 224,
    height: h ?? 224,
    resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false },
    fit: 'stretch',
    channels: gray ? 'grayscale' : 'rgb',
    layout: nchw ? 'nchw' : 'nhwc',
    scale: integer ? 1 : 1 / 255,
    mean: gray ? [0] : [0, 0, 0],
    std: gray ? [1] : [1, 1, 1],
    dtype: integer ? 'int32' : 'float32',
    exif: 'apply',
    alpha: 'ignore',
    ...(gray ? { grayWeights: [0.299, 0.587, 0.114] as [number, number, number] } : {}),
  };
}

const TF_DTYPES: Record<string, string> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_UINT8: 'uint8', DT_HALF: 'float16', DT_BOOL: 'bool' };

interface InputInfo {
  shape: (number | null)[];
  dtype: string;
}

/** First input's shape and dtype from a TF.js model.json (graph: Placeholder node / signature; layers: InputLayer). */
export function firstInputOf(modelJson: Record<string, unknown>): InputInfo {
  const sig = (modelJson['signature'] as { inputs?: Record<string, { dtype?: string; tensorShape?: { dim?: { size?: string }[] } }> } | undefined)?.inputs;
  const first = sig ? Object.values(sig)[0] : undefined;
  if (first?.tensorShape?.dim) {
    const shape = first.tensorShape.dim.map((d) => (d.size === undefined || Number(d.size) < 0 ? null : Number(d.size)));
    return { shape, dtype: TF_DTYPES[first.dtype ?? 'DT_FLOAT'] ?? 'float32' };
  }
  const topo = modelJson['modelTopology'] as Record<string, unknown> | undefined;
  const nodes = topo?.['node'] as { op?: string; attr?: Record<string, { shape?: { dim?: { size?: string }[] }; type?: string }> }[] | undefined;
  const ph = nodes?.find((n) => n.op === 'Placeholder');
  if (ph) {
    const dims = ph.attr?.['shape']?.shape?.dim ?? [];
    return {
      shape: dims.map((d) => (d.size === undefined || Number(d.size) < 0 ? null : Number(d.size))),
      dtype: TF_DTYPES[ph.attr?.['dtype']?.type ?? 'DT_FLOAT'] ?? 'float32',
    };
  }
  const config = (topo?.['model_config'] as { config?: { layers?: { class_name?: string; config?: { batch_input_shape?: (number | null)[]; dtype?: string } }[] } } | undefined)?.config;
  const inputLayer = config?.layers?.find((l) => l.class_name === 'InputLayer');
  if (inputLayer?.config?.batch_input_shape) return { shape: inputLayer.config.batch_input_shape, dtype: inputLayer.config.dtype ?? 'float32' };
  return { shape: [null, 224, 224, 3], dtype: 'float32' };
}
