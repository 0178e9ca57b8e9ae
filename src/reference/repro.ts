/**
 * `exray repro`, in Node: a folder that reproduces one node's own error without exray, for a runtime
 * bug report. What is shared with the page's repro button is pure and lives in src/diagnose: the
 * one-node model cut out of the model the edge ran (repro-cut.ts) and every other file
 * (repro-bundle.ts). What is Node's own is here: reading the model files, the expected outputs (the
 * node replayed alone on the reference: onnxruntime-node / onnxruntime-web or TF.js in Node), the
 * bundle's model re-run here when its runtime runs in Node, and the writes.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { ExrayInputError } from '../errors.ts';
import type { TensorMetrics } from '../compare/metrics.ts';
import { metricsOf, recordedError, reproBundleFiles, type ReproDescription } from '../diagnose/repro-bundle.ts';
import { cutOnnxNode, cutTfjsNode, type OnnxCut, type TfjsCut } from '../diagnose/repro-cut.ts';
import { ortTypeOfOnnx, toOrtTensor } from '../instrument/ort/tensors.ts';
import { readTfjsModelBytes } from '../models/load-node.ts';
import { decodeOnnx } from '../onnx/model.ts';
import { readInputBytes } from '../read-input.ts';
import type { Trace } from '../trace/types.ts';
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

/** The Node half around the pure cut (src/diagnose/repro-cut.ts): the reference's replay and a re-run here. */
interface Made {
  cut: OnnxCut | TfjsCut;
  expectedBy: string;
  replay: ReplayResult;
  /** Run the one-node model here; null outputs when it cannot. */
  rerun(): Promise<ReproDescription['rerun']>;
}

// ---- ONNX ---------------------------------------------------------------------------------------

async function makeOnnx(o: ReproOptions): Promise<Made> {
  const { file } = await resolveOnnxFile(o.edgeModel ?? o.model);
  const cut = cutOnnxNode(decodeOnnx(await readInputBytes(file), file), o.edge, o.node, { edgeFile: o.edgeFile, modelFile: file });
  const [replay] = await replayOnnxNodes(o.model, o.backend, o.edge, [o.node]);
  if (!replay || replay.error) throw new ExrayInputError(o.model, `node ${o.node} could not be replayed on the reference: ${replay?.error ?? 'no result'}`);
  const runtime = o.edge.header.runtime;
  const here: OrtNodeBackend | null = runtime.name === 'onnxruntime-node' ? 'cpu' : runtime.backend === 'wasm' ? 'wasm' : null;
  return {
    cut,
    expectedBy: o.backend === 'cpu' ? 'onnxruntime-node (CPU EP)' : 'onnxruntime-web (wasm EP) in Node',
    replay,
    rerun: async () => {
      if (!here) return { skipped: `${runtime.name} on ${runtime.backend} runs in a browser: open index.html` };
      const { ort } = await loadOrt(here);
      const session = await ort.InferenceSession.create(cut.bytes, { executionProviders: [here] });
      try {
        const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
        for (const f of cut.feeds) feeds[f.name] = toOrtTensor(ort, f, ortTypeOfOnnx(f.elemType) ?? 'float32');
        const res = await session.run(feeds);
        return { backend: here, metrics: cut.outputNames.map((n, k) => metricsOf(res[n] ? Array.from(res[n].data as ArrayLike<number | bigint>, Number) : null, replay.outputs[k])) };
      } finally {
        await session.release();
      }
    },
  };
}

// ---- TF.js graph models -------------------------------------------------------------------------

/** model.json and every shard, concatenated in manifest order (as TF.js loads them). */
async function readTfjsBytes(source: string): Promise<{ modelJsonPath: string; json: unknown; weightData: Uint8Array }> {
  const { modelJsonPath, parsed, weightData } = await readTfjsModelBytes(source);
  return { modelJsonPath, json: parsed.json, weightData };
}

async function makeTfjs(o: ReproOptions): Promise<Made> {
  if (o.backend !== 'cpu' && o.backend !== 'wasm') throw new ExrayInputError(o.model, `TF.js reference backend ${o.backend}: cpu or wasm`);
  const { modelJsonPath, json, weightData } = await readTfjsBytes(o.edgeModel ?? o.model);
  const cut = cutTfjsNode(json, weightData, o.edge, o.node, { edgeFile: o.edgeFile, modelFile: modelJsonPath });

  const session = await ReferenceSession.open(o.model, o.backend);
  let replay: ReplayResult | undefined;
  try {
    [replay] = await session.replay(o.edge, [o.node]);
  } finally {
    session.dispose();
  }
  if (!replay || replay.error) throw new ExrayInputError(o.model, `node ${o.node} could not be replayed on the reference: ${replay?.error ?? 'no result'}`);
  const expected = replay;
  const here = o.edge.header.runtime.backend === 'cpu' ? 'cpu' : 'wasm';
  return {
    cut,
    expectedBy: `TF.js ${o.backend} in Node`,
    replay,
    rerun: async () => {
      await useBackend(here);
      const weightSpecs = cut.weightSpecs as tfjs.io.WeightsManifestEntry[];
      const m = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: cut.modelTopology, weightSpecs, weightData: cut.weightData.slice().buffer }));
      const feeds: Record<string, tfjs.Tensor> = {};
      for (const i of cut.inputs) feeds[i.name] = tf.tensor(i.data, i.shape, i.type as 'float32');
      try {
        const outs = ([] as tfjs.Tensor[]).concat(m.execute(feeds, cut.outputNames) as tfjs.Tensor | tfjs.Tensor[]);
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
  if (!edge.header.nodes.some((n) => n.name === o.node)) throw new ExrayInputError(edgeFile, `no node "${o.node}" in the trace`);
  // Checked before anything runs: an existing folder is reused only when it is an earlier bundle.
  const existing = await readdir(o.out).catch(() => null);
  if (existing && existing.length > 0 && !existing.includes('repro.json')) throw new ExrayInputError(o.out, 'exists and is not an earlier repro bundle: give an empty or new folder');

  const made = edge.header.model.format === 'onnx' ? await makeOnnx(o) : await makeTfjs(o);
  const error = recordedError(edge, edgeFile, o.node, made.replay.outputs, o.force);
  const rerun = await made.rerun();
  const files = reproBundleFiles({ edge, node: o.node, cut: made.cut, expected: made.replay.outputs, expectedBy: made.expectedBy, error, rerun });
  for (const [rel, body] of files) {
    await mkdir(dirname(join(o.out, rel)), { recursive: true });
    await writeFileAtomic(join(o.out, rel), body);
  }
  return { out: o.out, node: o.node, op: made.cut.op, recorded: error.recorded, rerun, tolerance: error.tolerance, files: [...files.keys()] };
}
