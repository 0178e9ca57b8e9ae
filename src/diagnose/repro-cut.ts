/**
 * The one-node model of a repro bundle, cut out of the model the edge ran, fed the edge's recorded
 * inputs. Pure (no DOM, no Node): `exray repro` (src/reference/repro.ts) and the page's repro button
 * (src/viewer/state/repro.ts) cut the same model from the same bytes.
 *
 * - ONNX: the diagnosis's own single-node model (src/onnx/single-node.ts).
 * - TF.js graph models: the node, the weights it reads as Const nodes and a Placeholder per activation
 *   input. The weights are copied as the deployed model stores them (the same bytes, the same manifest
 *   entry, quantization included), so the bundle's TF.js dequantizes them exactly as the deployment's did.
 */
import { ExrayInputError } from '../errors.ts';
import { isNotReplayable, singleNodeModel, traceValues, type NodeFeed } from '../onnx/single-node.ts';
import { describeOnnx, encodeOnnx, type ModelProto } from '../onnx/model.ts';
import { ortTypeOfOnnx } from '../instrument/ort/tensors.ts';
import { parseTfjsModelJson, weightByteSize, type WeightEntry } from '../models/manifest-parse.ts';
import type { BlobData, DType, NodeRecord, Trace } from '../trace/types.ts';
import type { ReproTensor } from './repro-bundle.ts';

/** Where the inputs came from, for error messages. */
export interface CutSources {
  edgeFile: string;
  modelFile: string;
}

/** The runtime-independent half of a bundle's model: what repro-bundle.ts writes around it. */
export interface ReproCut {
  op: string;
  attributes: string[];
  inputs: ReproTensor[];
  /** The node's outputs as the one-node model names them (= the trace's `outputs[k]`). */
  outputNames: string[];
  /** The model's files by relative path. */
  modelFiles: Map<string, Uint8Array | string>;
  /** How the README names them. */
  modelDescription: string;
}

export interface OnnxCut extends ReproCut {
  runtime: 'onnx';
  bytes: Uint8Array;
  feeds: NodeFeed[];
}

export interface TfjsCut extends ReproCut {
  runtime: 'tfjs';
  modelTopology: { node: GraphNodeJson[]; library: Record<string, never>; versions: unknown };
  weightSpecs: WeightEntry[];
  weightData: Uint8Array;
}

// ---- ONNX ---------------------------------------------------------------------------------------

function onnxAttr(a: { name: string; f: number; i: bigint; s: Uint8Array; ints: bigint[]; floats: number[] }): string {
  if (a.ints.length) return `${a.name}=[${a.ints.join(',')}]`;
  if (a.floats.length) return `${a.name}=[${a.floats.map((x) => Number(x.toPrecision(7))).join(',')}]`;
  if (a.s.length) return `${a.name}=${new TextDecoder().decode(a.s)}`;
  if (a.i !== 0n) return `${a.name}=${a.i}`;
  if (a.f !== 0) return `${a.name}=${Number(a.f.toPrecision(7))}`;
  return a.name;
}

export function cutOnnxNode(model: ModelProto, edge: Trace, node: string, where: CutSources): OnnxCut {
  const info = describeOnnx(model);
  const single = singleNodeModel(model, node, traceValues(edge, info), info);
  if (isNotReplayable(single)) throw new ExrayInputError(where.edgeFile, `node ${node} cannot be cut out alone: ${single.reason}`);
  const bytes = encodeOnnx(single.model);
  return {
    runtime: 'onnx',
    op: single.node.op,
    attributes: model.graph!.node[single.node.position]!.attribute.map(onnxAttr),
    inputs: single.feeds.map((f) => ({ name: f.name, type: ortTypeOfOnnx(f.elemType) ?? 'float32', shape: f.shape, data: f.data })),
    outputNames: single.outputs,
    modelFiles: new Map([['model.onnx', bytes]]),
    modelDescription: '`model.onnx`',
    bytes,
    feeds: single.feeds,
  };
}

// ---- TF.js graph models -------------------------------------------------------------------------

export interface GraphNodeJson {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
  device?: string;
}

const TF_DTYPE: Partial<Record<DType, string>> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

function recordedValue(edge: Trace, name: string, k: number): { data: BlobData; shape: number[]; dtype: DType } | null {
  const rec: NodeRecord | undefined = edge.header.nodes.find((n) => n.name === name);
  const t = rec ? rec.outputs[k] : k === 0 ? edge.header.input.tensors.find((x) => x.name === name) : undefined;
  const data = t?.blob ? edge.blobs.get(t.blob.id) : undefined;
  return t && data ? { data, shape: t.shape, dtype: t.dtype } : null;
}

/** A base64 attribute string (TF.js stores `s` attributes so), as latin1 text. */
function fromBase64(s: string): string {
  try {
    return atob(s);
  } catch {
    return s;
  }
}

function tfAttr(name: string, v: unknown): string {
  const a = v as { i?: string; f?: number; b?: boolean; s?: string; list?: { i?: string[]; f?: number[] } } | null;
  if (!a) return name;
  if (a.list?.i) return `${name}=[${a.list.i.join(',')}]`;
  if (a.list?.f) return `${name}=[${a.list.f.join(',')}]`;
  if (a.s !== undefined) return `${name}=${fromBase64(a.s)}`;
  if (a.i !== undefined) return `${name}=${a.i}`;
  if (a.f !== undefined) return `${name}=${a.f}`;
  if (a.b !== undefined) return `${name}=${a.b}`;
  return name;
}

/** Where one weight is stored in the concatenated shards (offset -1: unknown, after a string weight). */
export interface WeightSlice {
  spec: WeightEntry;
  offset: number;
  bytes: number;
}

/**
 * Each weight's place in the shards, concatenated in manifest order (how TF.js slices them): the
 * manifest's entries in order, each its stored size (quantized: 1 or 2 bytes per value).
 */
export function weightSlices(weights: readonly WeightEntry[], total: number, modelFile: string): Map<string, WeightSlice> {
  const out = new Map<string, WeightSlice>();
  let offset = 0;
  let lost = false;
  for (const spec of weights) {
    const bytes = lost ? null : weightByteSize(spec);
    // A string weight has no fixed size: it and every weight after it cannot be sliced out.
    if (bytes === null) lost = true;
    out.set(spec.name, { spec, offset: lost ? -1 : offset, bytes: bytes ?? 0 });
    if (bytes !== null) offset += bytes;
  }
  if (offset > total) throw new ExrayInputError(modelFile, `its weights manifest needs at least ${offset} bytes, the shards hold ${total}`);
  return out;
}

/**
 * Cut `node` out of a TF.js graph model: `modelJson` as parsed from model.json, `weightData` every
 * shard concatenated in manifest order (as TF.js loads them).
 */
export function cutTfjsNode(modelJson: unknown, weightData: Uint8Array, edge: Trace, node: string, where: CutSources): TfjsCut {
  const parsed = parseTfjsModelJson(modelJson, where.modelFile);
  const topology = parsed.json['modelTopology'] as { node?: unknown; versions?: unknown };
  if (parsed.kind !== 'tfjs-graph' || !Array.isArray(topology.node)) throw new ExrayInputError(where.modelFile, 'a TF.js layers model: only graph models are bundled yet');
  const nodes = topology.node as GraphNodeJson[];
  const target = nodes.find((n) => n.name === node);
  if (!target) throw new ExrayInputError(where.modelFile, `no node "${node}" in the model the edge ran (a control-flow body, or another model)`);
  const record = edge.header.nodes.find((n) => n.name === node);
  if (!record) throw new ExrayInputError(where.edgeFile, `no node "${node}" in the trace`);
  const byName = new Map(nodes.map((n) => [n.name, n]));

  const stored = weightSlices(parsed.weightsManifest.flatMap((g) => g.weights), weightData.length, where.modelFile);

  const cutNodes: GraphNodeJson[] = [];
  const specs: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  const inputs: ReproTensor[] = [];
  const newInputs: string[] = [];
  for (const input of target.input ?? []) {
    if (input.startsWith('^')) continue;
    const m = /^(.*):(\d+)$/.exec(input);
    const [name, k] = m ? [m[1]!, Number(m[2])] : [input, 0];
    const producer = byName.get(name);
    if (producer?.op === 'Const') {
      const w = stored.get(name);
      if (!w) throw new ExrayInputError(where.modelFile, `weight ${name} of ${node} is not in the model's weights`);
      if (w.offset < 0) throw new ExrayInputError(where.modelFile, `weight ${name} of ${node} comes after a string weight in the manifest: not bundled`);
      if (!specs.some((s) => s.name === name)) {
        specs.push(structuredClone(w.spec));
        chunks.push(weightData.subarray(w.offset, w.offset + w.bytes));
        cutNodes.push(structuredClone(producer));
      }
      newInputs.push(name);
      continue;
    }
    const v = recordedValue(edge, name, k);
    if (!v) throw new ExrayInputError(where.edgeFile, `input ${input} of ${node} was not recorded (trace with --capture tensors)`);
    const dtype = TF_DTYPE[v.dtype];
    if (!dtype) throw new ExrayInputError(where.edgeFile, `input ${input} is ${v.dtype}: not fed to a TF.js Placeholder`);
    const ph = `input_${inputs.length}`;
    cutNodes.push({ name: ph, op: 'Placeholder', attr: { dtype: { type: dtype }, shape: { shape: { dim: v.shape.map((s) => ({ size: String(s) })) } } } });
    inputs.push({ name: ph, type: v.dtype, shape: v.shape, data: v.data });
    newInputs.push(ph);
  }
  cutNodes.push({ ...structuredClone(target), input: newInputs });
  const data = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const modelTopology = { node: cutNodes, library: {} as Record<string, never>, versions: topology.versions ?? {} };
  const json = { format: 'graph-model', generatedBy: 'exray repro', convertedBy: null, modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] };
  return {
    runtime: 'tfjs',
    op: target.op,
    attributes: Object.entries(target.attr ?? {}).filter(([k]) => !['T', 'dtype'].includes(k)).map(([k, v]) => tfAttr(k, v)),
    inputs,
    outputNames: record.outputs.map((_, k) => (k === 0 ? node : `${node}:${k}`)),
    modelFiles: new Map<string, Uint8Array | string>([['model.json', `${JSON.stringify(json)}\n`], ['weights.bin', data]]),
    modelDescription: '`model.json` + `weights.bin`',
    modelTopology,
    weightSpecs: specs,
    weightData: data,
  };
}
