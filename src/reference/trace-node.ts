/**
 * Trace a model from disk in Node. TF.js models run on the cpu or wasm backend; ONNX models (a
 * `.onnx` file, or a directory holding one) go to ort-node.ts: cpu = onnxruntime-node, wasm =
 * onnxruntime-web's wasm EP. Used by `exray trace` (Node path) and `exray reference` (replay of a
 * recorded input on the desktop backend).
 */
import { dirname } from 'node:path';
import { stat } from 'node:fs/promises';
import type { CaptureMode, InputSource, PreprocessSpec, Trace, TraceEventSink } from '../trace/types.ts';
import type { NodeSelection } from '../instrument/node-select.ts';
import { loadTfjsModelFromDir, modelNameOf } from '../models/load-node.ts';
import { modelHash } from '../models/hash.ts';
import type { NodeBackend } from './tfjs-backend.ts';
import type * as tfjs from '@tensorflow/tfjs';
import { checkFeed, type FeedTensor } from './feed.ts';
import type { IOSpec } from '../trace/types.ts';
import { isOnnxModelPath, onnxModelHash, traceOnnxInNode } from './ort-node.ts';
import { sharedNodeStatsPool } from './stats-pool-node.ts';

export interface NodeTraceOptions {
  /** A model directory or its model.json. */
  model: string;
  backend: NodeBackend;
  feed: FeedTensor[];
  /** Names the feed's origin in error messages (an image, a tensor file, a trace). */
  feedFile: string;
  capture?: CaptureMode;
  runs?: number;
  warmup?: number;
  source?: InputSource;
  preprocess?: PreprocessSpec;
  label?: string;
  referenceFor?: string;
  modelName?: string;
  onEvent?: TraceEventSink;
  /** `--nodes`: the nodes a capture reads (default every node). */
  nodes?: NodeSelection;
  /** `--max-memory`, bytes (ONNX: the outputs one capture run exposes; see ort-node.ts). */
  maxMemoryBytes?: number;
  /** Emit events only (to `onEvent`), keep nothing: resolves to null. */
  streamOnly?: boolean;
}

/** The model identity hash a trace records: sha256 of the `.onnx` file, or of model.json + shards (TF.js). */
export async function modelIdentityHash(model: string): Promise<string> {
  return (await isOnnxModelPath(model)) ? onnxModelHash(model) : modelHash(model);
}

export async function modelDirOf(path: string): Promise<string> {
  const s = await stat(path).catch(() => null);
  return s?.isDirectory() ? path : dirname(path);
}

interface LayersJson {
  modelTopology?: { model_config?: { config?: { input_layers?: [string, ...unknown[]][] } }; config?: { input_layers?: [string, ...unknown[]][] } };
}

/** Input names as model.json declares them (LayersModel: the input layers' names), else TF.js's. */
export function fileInputNames(modelJson: unknown): string[] | undefined {
  const topo = (modelJson as LayersJson).modelTopology;
  const layers = (topo?.model_config?.config ?? topo?.config)?.input_layers;
  return Array.isArray(layers) ? layers.map((l) => String(l[0])) : undefined;
}

function declaredInputs(model: { inputs: { name: string; shape?: number[]; dtype?: string }[] }, names: string[] | undefined): IOSpec[] {
  return model.inputs.map((i, k) => ({
    name: names?.[k] ?? i.name,
    shape: (i.shape ?? []).map((d) => (d == null || d < 0 ? null : d)),
    dtype: (i.dtype ?? 'float32') as IOSpec['dtype'],
  }));
}

export async function traceInNode(opts: NodeTraceOptions & { streamOnly: true }): Promise<null>;
export async function traceInNode(opts: NodeTraceOptions): Promise<Trace>;
export async function traceInNode(opts: NodeTraceOptions): Promise<Trace | null> {
  if (await isOnnxModelPath(opts.model)) return traceOnnxInNode(opts);
  // TF.js is imported only for TF.js models (~100 MB of RSS an ONNX run need not carry).
  const [{ tf, useBackend }, { streamModel, traceModel }] = await Promise.all([import('./tfjs-backend.ts'), import('../instrument/tfjs/index.ts')]);
  const envExtra = await useBackend(opts.backend);
  const { model, modelJson } = await loadTfjsModelFromDir(opts.model, tf);
  const isLayers = !('executeAsync' in model);
  const inputNames = isLayers ? fileInputNames(modelJson) : undefined;
  const tensors: tfjs.Tensor[] = [];
  try {
    const feed = checkFeed(declaredInputs(model as unknown as { inputs: { name: string; shape?: number[]; dtype?: string }[] }, inputNames), opts.feed, opts.feedFile);
    for (const f of feed) {
      const dtype = f.dtype === 'float32' || f.dtype === 'float16' ? 'float32' : f.dtype === 'bool' ? 'bool' : 'int32';
      tensors.push(tf.tensor(f.data, f.shape, dtype));
    }
    const named: tfjs.NamedTensorMap = {};
    feed.forEach((f, k) => (named[f.name] = tensors[k]!));
    const options = {
      ...(inputNames ? { inputNames } : {}),
      capture: opts.capture ?? 'tensors',
      runs: opts.runs ?? 5,
      warmup: opts.warmup ?? 1,
      modelName: opts.modelName ?? (await modelNameOf(opts.model)),
      modelSha256: await modelHash(opts.model),
      environment: envExtra,
      ...(opts.source ? { source: opts.source } : {}),
      ...(opts.preprocess ? { preprocess: opts.preprocess } : {}),
      ...(opts.label ? { label: opts.label } : {}),
      ...(opts.referenceFor ? { referenceFor: opts.referenceFor } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.nodes ? { nodes: opts.nodes } : {}),
      // Statistics of captured values on worker threads while the capture run goes on.
      statsPool: sharedNodeStatsPool(),
    };
    if (!opts.streamOnly) return await traceModel(model, isLayers ? tensors : named, options);
    await streamModel(model, isLayers ? tensors : named, options);
    return null;
  } finally {
    tf.dispose(tensors);
    model.dispose();
  }
}
