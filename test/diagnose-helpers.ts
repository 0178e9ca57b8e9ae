/**
 * Shared set-up for the diagnosis tests on real models and photos: "edge" traces whose input was made
 * by a deliberately wrong pipeline (the canonical step functions with one step swapped), traced with
 * traceInNode on wasm, recording the card's spec as a real deployment would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceOnnx } from '../src/instrument/ort/index.ts';
import { traceModel } from '../src/instrument/tfjs/index.ts';
import { modelHash } from '../src/models/hash.ts';
import { loadTfjsModelFromDir } from '../src/models/load-node.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, type ModelProto } from '../src/onnx/model.ts';
import { loadOrt } from '../src/reference/ort-node.ts';
import { tf, useBackend } from '../src/reference/tfjs-backend.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import type { DecodedImage } from '../src/preprocess/image.ts';
import { preprocess, type PreprocessResult } from '../src/preprocess/pipeline.ts';
import { modelIdentityHash, traceInNode } from '../src/reference/trace-node.ts';
import type { PreprocessSpec, Trace } from '../src/trace/types.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import { card, MODELS, SAMPLES } from './helpers.ts';

export interface EdgeOptions {
  model: string;
  photo: string;
  /** Steps the edge does differently from the card. */
  wrong?: Partial<PreprocessSpec>;
  /** Rewrite the tensor after the (wrong) pipeline, e.g. a reshape instead of a transpose. */
  after?: (t: PreprocessResult, spec: PreprocessSpec) => { data: Float32Array | Int32Array; shape: number[] };
  /** ±1 level decoder noise on the photo (another JPEG decoder). */
  noise?: boolean;
}

export interface EdgeCase {
  edge: Trace;
  photo: string;
  decoded: DecodedImage;
  spec: PreprocessSpec;
}

export async function edgeCase(o: EdgeOptions): Promise<EdgeCase> {
  const c = await card(o.model);
  const input = c.inputs[0]!;
  const spec = input.preprocess!;
  const photo = join(SAMPLES, o.photo);
  const decoded = await decodeImageFile(photo);
  const img = o.noise ? decoderNoise(decoded.image) : decoded.image;
  const wrongSpec = { ...spec, ...(o.wrong ?? {}) };
  let t: { data: Float32Array | Int32Array; shape: number[] } = preprocess(img, decoded.source.exifOrientation, wrongSpec);
  if (o.after) t = o.after(t as PreprocessResult, spec);
  const edge = await traceInNode({
    model: join(MODELS, o.model),
    backend: 'wasm',
    feed: [{ name: input.name, shape: t.shape, dtype: spec.dtype === 'float32' ? 'float32' : 'int32', data: t.data }],
    feedFile: o.photo,
    runs: 1,
    warmup: 0,
    source: decoded.source,
    preprocess: spec,
    label: 'edge',
  });
  return { edge, photo, decoded, spec };
}

/** The (NHWC) tensor transposed to NCHW memory order but kept in the NHWC shape: a reshape instead of a transpose. */
export function nchwAsNhwc(t: { data: Float32Array | Int32Array }, spec: PreprocessSpec): { data: Float32Array | Int32Array; shape: number[] } {
  const C = spec.channels === 'grayscale' ? 1 : 3;
  const n = spec.width * spec.height;
  const out = t.data instanceof Int32Array ? new Int32Array(t.data.length) : new Float32Array(t.data.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) out[c * n + i] = t.data[i * C + c] as number;
  return { data: out, shape: [1, spec.height, spec.width, C] };
}

/**
 * Kernel bug, TF.js: an edge trace (wasm) of a sample model whose convolution a third of the way in
 * (`_FusedConv2D` node or Conv2D layer) has its weights scaled by 1.02, recorded under the original
 * model's identity, as a device whose kernel computes that node differently would record it.
 */
export async function perturbedConvEdge(name: string, photo: DecodedImage): Promise<{ edge: Trace; target: string }> {
  await useBackend('wasm');
  const dir = join(MODELS, name);
  const { model } = await loadTfjsModelFromDir(dir, tf);
  const input = (await card(name)).inputs[0]!;
  const t = preprocess(photo.image, photo.source.exifOrientation, input.preprocess!);
  const x = tf.tensor(t.data, t.shape, t.dtype);
  try {
    let target: string;
    if ('executor' in model) {
      const ex = (model as unknown as { executor: { graph: { nodes: Record<string, { name: string; op: string; inputNames: string[] }> }; weightMap: Record<string, tf.Tensor[]> } }).executor;
      const convs = Object.values(ex.graph.nodes).filter((n) => n.op === '_FusedConv2D');
      const c = convs[Math.floor(convs.length / 3)]!;
      target = c.name;
      const w = c.inputNames[1]!;
      ex.weightMap[w] = [tf.tidy(() => ex.weightMap[w]![0]!.mul(1.02))];
    } else {
      const layers = (model as unknown as { layers: { name: string; getClassName(): string; getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }[] }).layers.filter((l) => l.getClassName() === 'Conv2D');
      const l = layers[Math.floor(layers.length / 3)]!;
      target = l.name;
      l.setWeights(l.getWeights().map((w, i) => (i === 0 ? tf.tidy(() => w.mul(1.02)) : w)));
    }
    const edge = await traceModel(model, 'executor' in model ? { [input.name]: x } : x, {
      capture: 'tensors',
      runs: 1,
      warmup: 0,
      modelName: name,
      modelSha256: await modelHash(dir),
      inputNames: [input.name],
      source: photo.source,
      preprocess: input.preprocess!,
      label: 'edge',
    });
    return { edge, target };
  } finally {
    x.dispose();
    model.dispose();
  }
}

/** A float or ints attribute of one node set, in a copy of `model`. */
export function setOnnxAttribute(model: ModelProto, node: string, attr: string, value: number | readonly number[]): ModelProto {
  const copy = decodeOnnx(encodeOnnx(model), 'copy');
  const n = copy.graph!.node[describeOnnx(copy).nodes.find((x) => x.name === node)!.position]!;
  const a = n.attribute.find((x) => x.name === attr)!;
  if (typeof value === 'number') a.f = value;
  else a.ints = value.map((v) => BigInt(v));
  return copy;
}

/**
 * Kernel bug, ONNX: an edge trace of an edited copy of the sample model `name` (`edit`; identity: the
 * unedited model), on onnxruntime-node (cpu) or onnxruntime-web wasm in Node, fed `photo` as its card says.
 */
export async function editedOnnxEdge(name: string, photo: DecodedImage, edit: (m: ModelProto) => ModelProto, backend: 'cpu' | 'wasm' = 'wasm'): Promise<Trace> {
  const dir = join(MODELS, name);
  const file = join(dir, 'model.onnx');
  const input = (await card(name)).inputs[0]!;
  const t = preprocess(photo.image, photo.source.exifOrientation, input.preprocess!);
  const { ort, runtime } = await loadOrt(backend);
  return traceOnnx(ort, encodeOnnx(edit(decodeOnnx(new Uint8Array(readFileSync(file)), file))), [{ name: input.name, shape: t.shape, dtype: t.dtype, data: t.data }], {
    runtime,
    executionProvider: backend,
    profiler: null,
    capture: 'tensors',
    runs: 1,
    warmup: 0,
    modelName: name,
    modelSha256: await modelIdentityHash(dir),
    source: photo.source,
    preprocess: input.preprocess!,
    label: 'edge',
  });
}
