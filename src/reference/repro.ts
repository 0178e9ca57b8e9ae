/**
 * `exray repro`, in Node: a folder that reproduces one node's own error without exray, for a runtime
 * bug report. The node is cut out of the model the edge ran as a one-node model fed the edge's recorded
 * inputs (ONNX: src/onnx/single-node.ts, the diagnosis's own replay; TF.js graph models: the node, its
 * weights as Const nodes and a Placeholder per activation input); the expected outputs are the node
 * replayed alone on the reference; the bundle is re-run here when its runtime runs in Node. The other
 * files come from src/diagnose/repro-bundle.ts.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { ExrayInputError } from '../errors.ts';
import { tensorMetrics, type TensorMetrics } from '../compare/metrics.ts';
import { globalTolerance } from '../compare/tolerance.ts';
import { reproFiles, type ReproDescription, type ReproOutput, type ReproTensor } from '../diagnose/repro-bundle.ts';
import { isGraphModel } from '../instrument/tfjs/hooks.ts';
import { ortTypeOfOnnx, toOrtTensor } from '../instrument/ort/tensors.ts';
import { loadTfjsModelFromDir, resolveModelJsonPath } from '../models/load-node.ts';
import { decodeOnnx, describeOnnx, encodeOnnx } from '../onnx/model.ts';
import { isNotReplayable, singleNodeModel, traceValues } from '../onnx/single-node.ts';
import type { BlobData, DType, NodeRecord, Trace } from '../trace/types.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { ReplayResult } from '../instrument/common.ts';
import { loadOrt, resolveOnnxFile, type OrtNodeBackend } from './ort-node.ts';
import { replayOnnxNodes } from './replay-onnx.ts';
import { ReferenceSession } from './replay-node.ts';
import { tf, useBackend } from './tfjs-backend.ts';

export interface ReproOptions {
  edge: Trace;
  edgeFile: string;
  node: string;
  /** The reference model (folder, model.json or .onnx): the expected outputs. */
  model: string;
  /** The model the edge ran, when it is not the reference: the one-node model is cut from it. */
  edgeModel?: string;
  /** Reference backend for the expected outputs (TF.js cpu/wasm; ONNX cpu = onnxruntime-node, wasm = onnxruntime-web). */
  backend: OrtNodeBackend;
  out: string;
  /** Write the bundle even when the node's own error is within tolerance. */
  force?: boolean;
}

export interface ReproResult {
  out: string;
  node: string;
  op: string;
  recorded: (TensorMetrics | null)[];
  rerun: ReproDescription['rerun'];
  tolerance: number;
  files: string[];
}

/** What the runtime-specific half hands to the common one. */
interface Cut {
  op: string;
  attributes: string[];
  inputs: ReproTensor[];
  outputNames: string[];
  modelFiles: Map<string, Uint8Array | string>;
  modelDescription: string;
  expectedBy: string;
  replay: ReplayResult;
  /** Run the one-node model here; null outputs when it cannot. */
  rerun(): Promise<ReproDescription['rerun']>;
}

const metricsOf = (got: ArrayLike<number> | null | undefined, exp: BlobData | null | undefined): TensorMetrics | null =>
  got && exp && got.length === exp.length ? tensorMetrics(Float32Array.from(got) as BlobData, exp) : null;

// ---- ONNX ---------------------------------------------------------------------------------------

function onnxAttr(a: { name: string; f: number; i: bigint; s: Uint8Array; ints: bigint[]; floats: number[] }): string {
  if (a.ints.length) return `${a.name}=[${a.ints.join(',')}]`;
  if (a.floats.length) return `${a.name}=[${a.floats.map((x) => Number(x.toPrecision(7))).join(',')}]`;
  if (a.s.length) return `${a.name}=${new TextDecoder().decode(a.s)}`;
  if (a.i !== 0n) return `${a.name}=${a.i}`;
  if (a.f !== 0) return `${a.name}=${Number(a.f.toPrecision(7))}`;
  return a.name;
}

async function cutOnnx(o: ReproOptions): Promise<Cut> {
  const { file } = await resolveOnnxFile(o.edgeModel ?? o.model);
  const model = decodeOnnx(new Uint8Array(await readFile(file)), file);
  const info = describeOnnx(model);
  const single = singleNodeModel(model, o.node, traceValues(o.edge, info), info);
  if (isNotReplayable(single)) throw new ExrayInputError(o.edgeFile, `node ${o.node} cannot be cut out alone: ${single.reason}`);
  const [replay] = await replayOnnxNodes(o.model, o.backend, o.edge, [o.node]);
  if (!replay || replay.error) throw new ExrayInputError(o.model, `node ${o.node} could not be replayed on the reference: ${replay?.error ?? 'no result'}`);
  const bytes = encodeOnnx(single.model);
  const runtime = o.edge.header.runtime;
  const here: OrtNodeBackend | null = runtime.name === 'onnxruntime-node' ? 'cpu' : runtime.backend === 'wasm' ? 'wasm' : null;
  return {
    op: single.node.op,
    attributes: model.graph!.node[single.node.position]!.attribute.map(onnxAttr),
    inputs: single.feeds.map((f) => ({ name: f.name, type: ortTypeOfOnnx(f.elemType) ?? 'float32', shape: f.shape, data: f.data })),
    outputNames: single.outputs,
    modelFiles: new Map([['model.onnx', bytes]]),
    modelDescription: '`model.onnx`',
    expectedBy: o.backend === 'cpu' ? 'onnxruntime-node (CPU EP)' : 'onnxruntime-web (wasm EP) in Node',
    replay,
    rerun: async () => {
      if (!here) return { skipped: `${runtime.name} on ${runtime.backend} runs in a browser: open index.html` };
      const { ort } = await loadOrt(here);
      const session = await ort.InferenceSession.create(bytes, { executionProviders: [here] });
      try {
        const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
        for (const f of single.feeds) feeds[f.name] = toOrtTensor(ort, f, ortTypeOfOnnx(f.elemType) ?? 'float32');
        const res = await session.run(feeds);
        return { backend: here, metrics: single.outputs.map((n, k) => metricsOf(res[n] ? Array.from(res[n].data as ArrayLike<number | bigint>, Number) : null, replay.outputs[k])) };
      } finally {
        await session.release();
      }
    },
  };
}

// ---- TF.js graph models -------------------------------------------------------------------------

interface GraphNodeJson {
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

function tfAttr(name: string, v: unknown): string {
  const a = v as { i?: string; f?: number; b?: boolean; s?: string; list?: { i?: string[]; f?: number[] } } | null;
  if (!a) return name;
  if (a.list?.i) return `${name}=[${a.list.i.join(',')}]`;
  if (a.list?.f) return `${name}=[${a.list.f.join(',')}]`;
  if (a.s !== undefined) return `${name}=${Buffer.from(a.s, 'base64').toString('latin1')}`;
  if (a.i !== undefined) return `${name}=${a.i}`;
  if (a.f !== undefined) return `${name}=${a.f}`;
  if (a.b !== undefined) return `${name}=${a.b}`;
  return name;
}

async function cutTfjs(o: ReproOptions): Promise<Cut> {
  if (o.backend !== 'cpu' && o.backend !== 'wasm') throw new ExrayInputError(o.model, `TF.js reference backend ${o.backend}: cpu or wasm`);
  const source = o.edgeModel ?? o.model;
  const { modelJsonPath } = await resolveModelJsonPath(source);
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as { modelTopology?: { node?: GraphNodeJson[]; versions?: unknown }; format?: string };
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new ExrayInputError(modelJsonPath, 'not a TF.js graph model (no modelTopology.node): layers models are not bundled yet');
  const target = nodes.find((n) => n.name === o.node);
  if (!target) throw new ExrayInputError(modelJsonPath, `no node "${o.node}" in the model the edge ran (a control-flow body, or another model)`);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const record = o.edge.header.nodes.find((n) => n.name === o.node)!;

  // Weights exactly as the deployed model loads them (dequantized), from TF.js itself.
  await useBackend('cpu');
  const { model } = await loadTfjsModelFromDir(source, tf);
  const cutNodes: GraphNodeJson[] = [];
  const weights: Record<string, tfjs.Tensor> = {};
  const inputs: ReproTensor[] = [];
  const newInputs: string[] = [];
  try {
    if (!isGraphModel(model)) throw new ExrayInputError(modelJsonPath, 'a TF.js layers model: only graph models are bundled yet');
    const weightMap = (model as unknown as { weights: Record<string, tfjs.Tensor[]> }).weights;
    for (const input of target.input ?? []) {
      if (input.startsWith('^')) continue;
      const m = /^(.*):(\d+)$/.exec(input);
      const [name, k] = m ? [m[1]!, Number(m[2])] : [input, 0];
      const producer = byName.get(name);
      if (producer?.op === 'Const') {
        const w = weightMap[name]?.[0];
        if (!w) throw new ExrayInputError(modelJsonPath, `weight ${name} of ${o.node} is not in the model's weights`);
        if (!weights[name]) {
          weights[name] = w.clone();
          cutNodes.push(structuredClone(producer));
        }
        newInputs.push(name);
        continue;
      }
      const v = recordedValue(o.edge, name, k);
      if (!v) throw new ExrayInputError(o.edgeFile, `input ${input} of ${o.node} was not recorded (trace with --capture tensors)`);
      const dtype = TF_DTYPE[v.dtype];
      if (!dtype) throw new ExrayInputError(o.edgeFile, `input ${input} is ${v.dtype}: not fed to a TF.js Placeholder`);
      const ph = `input_${inputs.length}`;
      cutNodes.push({ name: ph, op: 'Placeholder', attr: { dtype: { type: dtype }, shape: { shape: { dim: v.shape.map((s) => ({ size: String(s) })) } } } });
      inputs.push({ name: ph, type: v.dtype === 'bool' ? 'bool' : v.dtype, shape: v.shape, data: v.data });
      newInputs.push(ph);
    }
  } finally {
    model.dispose();
  }
  cutNodes.push({ ...structuredClone(target), input: newInputs });
  const { data, specs } = await tf.io.encodeWeights(weights);
  tf.dispose(Object.values(weights));
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'exray repro',
    convertedBy: null,
    modelTopology: { node: cutNodes, library: {}, versions: json.modelTopology?.versions ?? {} },
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  const outputNames = record.outputs.map((_, k) => (k === 0 ? o.node : `${o.node}:${k}`));

  const session = await ReferenceSession.open(o.model, o.backend);
  let replay: ReplayResult | undefined;
  try {
    [replay] = await session.replay(o.edge, [o.node]);
  } finally {
    session.dispose();
  }
  if (!replay || replay.error) throw new ExrayInputError(o.model, `node ${o.node} could not be replayed on the reference: ${replay?.error ?? 'no result'}`);
  const expected = replay;
  const weightBytes = new Uint8Array(data);
  const here = o.edge.header.runtime.backend === 'cpu' ? 'cpu' : 'wasm';
  return {
    op: target.op,
    attributes: Object.entries(target.attr ?? {}).filter(([k]) => !['T', 'dtype'].includes(k)).map(([k, v]) => tfAttr(k, v)),
    inputs,
    outputNames,
    modelFiles: new Map<string, Uint8Array | string>([['model.json', `${JSON.stringify(modelJson)}\n`], ['weights.bin', weightBytes]]),
    modelDescription: '`model.json` + `weights.bin`',
    expectedBy: `TF.js ${o.backend} in Node`,
    replay,
    rerun: async () => {
      await useBackend(here);
      const m = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: data }));
      const feeds: Record<string, tfjs.Tensor> = {};
      for (const i of inputs) feeds[i.name] = tf.tensor(i.data, i.shape, i.type as 'float32');
      try {
        const outs = ([] as tfjs.Tensor[]).concat(m.execute(feeds, outputNames) as tfjs.Tensor | tfjs.Tensor[]);
        const values = await Promise.all(outs.map(async (t) => Array.from((await t.data()) as ArrayLike<number>)));
        tf.dispose(outs);
        const note = o.edge.header.runtime.backend === here ? '' : ` (the edge ran ${o.edge.header.runtime.backend}: open index.html for it)`;
        return { backend: `${here}${note}`, metrics: values.map((v, k) => metricsOf(v, expected.outputs[k])) };
      } finally {
        tf.dispose(Object.values(feeds));
        m.dispose();
      }
    },
  };
}

// ---- the bundle ---------------------------------------------------------------------------------

export async function writeReproBundle(o: ReproOptions): Promise<ReproResult> {
  const { edge, edgeFile } = o;
  if (edge.header.capture !== 'tensors') throw new ExrayInputError(edgeFile, `a repro needs the node's recorded inputs: trace with --capture tensors (this one is ${edge.header.capture})`);
  const record = edge.header.nodes.find((n) => n.name === o.node);
  if (!record) throw new ExrayInputError(edgeFile, `no node "${o.node}" in the trace`);
  // Checked before anything runs: an existing folder is reused only when it is an earlier bundle.
  const existing = await readdir(o.out).catch(() => null);
  if (existing && existing.length > 0 && !existing.includes('repro.json')) throw new ExrayInputError(o.out, 'exists and is not an earlier repro bundle: give an empty or new folder');

  const cut = edge.header.model.format === 'onnx' ? await cutOnnx(o) : await cutTfjs(o);
  const recordedOut = record.outputs.map((t) => (t.blob ? (edge.blobs.get(t.blob.id) ?? null) : null));
  const recorded = cut.outputNames.map((_, k) => metricsOf(recordedOut[k], cut.replay.outputs[k]));
  const tolerance = globalTolerance(undefined).nrmse ?? 1e-3;
  const worst = Math.max(0, ...recorded.map((m) => m?.nrmse ?? 0));
  if (!o.force && worst <= tolerance) {
    throw new ExrayInputError(edgeFile, `node ${o.node}'s own error (nrmse ${worst.toPrecision(3)} on its recorded inputs) is within tolerance ${tolerance}: nothing to reproduce (its error is inherited; pass --force to write the bundle anyway)`);
  }
  const rerun = await cut.rerun();
  const outputs: ReproOutput[] = cut.outputNames.map((name, k) => ({ name, shape: record.outputs[k]?.shape ?? [], expected: cut.replay.outputs[k] ?? null, edge: recordedOut[k] ?? null }));
  const description: ReproDescription = {
    runtime: edge.header.model.format === 'onnx' ? 'onnx' : 'tfjs',
    edge, node: o.node, op: cut.op, attributes: cut.attributes, inputs: cut.inputs, outputs, recorded, rerun, tolerance, expectedBy: cut.expectedBy,
  };
  const files = new Map([...cut.modelFiles, ...reproFiles(description, cut.modelDescription)]);
  for (const [rel, body] of files) {
    await mkdir(dirname(join(o.out, rel)), { recursive: true });
    await writeFileAtomic(join(o.out, rel), body);
  }
  return { out: o.out, node: o.node, op: cut.op, recorded, rerun, tolerance, files: [...files.keys()] };
}
