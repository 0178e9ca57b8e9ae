/**
 * Single-node replay of a TF.js model: each requested node runs alone on the current backend, fed with
 * another run's (the edge trace's) recorded inputs for that node. GraphModel: `execute` with the node's
 * inputs fed by name and the node as the only output; LayersModel: `layer.apply` on the recorded inputs.
 * Its output vs the edge's is the node's *own* error; vs the reference trace, the error it inherited
 * (src/diagnose/attribution.ts). Backend-agnostic: Node (src/reference/replay-node.ts) and the page's
 * trace worker (src/viewer/worker/replay-job.ts) run this code. Nothing throws for one node.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { BlobData, DType, NodeRecord, Trace } from '../../trace/types.ts';
import { firstLine, type ReplayResult } from '../common.ts';
import { isGraphModel, type TfjsModel } from './hooks.ts';

interface GraphNodeLike {
  name: string;
  op: string;
  inputNames: string[];
}

interface LayerLike {
  name: string;
  layers?: LayerLike[];
  getClassName(): string;
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

interface Recorded {
  data: BlobData;
  shape: number[];
  dtype: DType;
}

type ValueOf = (name: string, k: number) => Recorded | null;

function toBlob(values: ArrayLike<number>, dtype: string): BlobData {
  if (dtype === 'int32') return values instanceof Int32Array ? values.slice() : Int32Array.from(values);
  return values instanceof Float32Array ? values.slice() : Float32Array.from(values);
}

function tensorFrom(data: BlobData, shape: number[], dtype: DType): tf.Tensor {
  if (dtype === 'bool') return tf.tensor(Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0)), shape, 'bool');
  if (dtype === 'int32' || data instanceof Int32Array) return tf.tensor(data instanceof Int32Array ? data : Int32Array.from(data), shape, 'int32');
  return tf.tensor(data, shape, 'float32');
}

/** `name:k` → [name, k]. */
function parseOutputName(s: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(s);
  return m ? [m[1]!, Number(m[2])] : [s, 0];
}

/**
 * Replay each named node of `model` alone on the current TF.js backend, fed with `edge`'s recorded
 * inputs. Nodes that cannot be replayed (loop iterations, control flow, inputs not recorded, a runtime
 * error) come back with `error`.
 */
export async function replayTfjsNodes(model: TfjsModel, edge: Trace, nodes: readonly string[]): Promise<ReplayResult[]> {
  const byName = new Map(edge.header.nodes.map((n) => [n.name, n]));
  const inputByName = new Map(edge.header.input.tensors.map((t) => [t.name, t]));
  const valueOf: ValueOf = (name, k) => {
    const rec = byName.get(name);
    const t = rec ? rec.outputs[k] : k === 0 ? inputByName.get(name) : undefined;
    const data = t?.blob ? edge.blobs.get(t.blob.id) : undefined;
    return t && data ? { data, shape: t.shape, dtype: t.dtype } : null;
  };
  const results: ReplayResult[] = [];
  for (const name of nodes) {
    const rec = byName.get(name);
    const t0 = performance.now();
    if (!rec) {
      results.push({ node: name, outputs: [], ms: 0, error: 'not in the edge trace' });
      continue;
    }
    try {
      const outputs = isGraphModel(model) ? await replayGraphNode(model, rec, valueOf) : replayLayer(model as unknown as LayerLike, rec, valueOf);
      results.push({ node: name, outputs, ms: performance.now() - t0 });
    } catch (e) {
      results.push({ node: name, outputs: [], ms: performance.now() - t0, error: firstLine(e) });
    }
  }
  return results;
}

async function replayGraphNode(model: GraphModel, rec: NodeRecord, valueOf: ValueOf): Promise<(BlobData | null)[]> {
  if (rec.name.includes('#')) throw new Error('a repeated visit (loop iteration) cannot be replayed alone');
  const executor = (model as unknown as { executor?: { graph?: { nodes?: Record<string, GraphNodeLike> } } }).executor;
  const node = executor?.graph?.nodes?.[rec.name];
  if (!node) throw new Error('not a node of the reference graph (control-flow body or a different model)');
  const feed: Record<string, tf.Tensor> = {};
  try {
    for (const input of node.inputNames) {
      if (input.startsWith('^')) continue;
      const [inName, k] = parseOutputName(input);
      const producer = executor?.graph?.nodes?.[inName];
      if (producer?.op === 'Const') continue;
      const v = valueOf(inName, k);
      if (!v) throw new Error(`input ${input} was not recorded by the edge trace`);
      feed[input] = tensorFrom(v.data, v.shape, v.dtype);
    }
    const outputNames = rec.outputs.map((_, k) => (k === 0 ? rec.name : `${rec.name}:${k}`));
    let outs: tf.Tensor[];
    try {
      const r = model.execute(feed, outputNames);
      outs = Array.isArray(r) ? r : [r];
    } catch (e) {
      if (!/executeAsync/.test(String(e))) throw e;
      const r = await model.executeAsync(feed, outputNames);
      outs = Array.isArray(r) ? r : [r];
    }
    try {
      return await Promise.all(outs.map(async (t) => (t.dtype === 'string' || t.dtype === 'complex64' ? null : toBlob((await t.data()) as ArrayLike<number>, t.dtype))));
    } finally {
      tf.dispose(outs);
    }
  } finally {
    tf.dispose(Object.values(feed));
  }
}

function replayLayer(root: LayerLike, rec: NodeRecord, valueOf: ValueOf): (BlobData | null)[] {
  const layer = findLayer(root, rec.name);
  if (!layer) throw new Error('no such layer in the reference model');
  if (rec.inputs.length === 0) throw new Error("the trace does not record this layer's inputs");
  const ins: tf.Tensor[] = [];
  try {
    for (const input of rec.inputs) {
      const v = valueOf(input, 0);
      if (!v) throw new Error(`input ${input} was not recorded by the edge trace`);
      ins.push(tensorFrom(v.data, v.shape, v.dtype));
    }
    const out = tf.tidy(() => layer.apply(ins.length === 1 ? ins[0]! : ins, { training: false }));
    const outs = Array.isArray(out) ? out : [out];
    try {
      return outs.map((t) => toBlob(t.dataSync() as ArrayLike<number>, t.dtype));
    } finally {
      tf.dispose(outs);
    }
  } finally {
    tf.dispose(ins);
  }
}

/** A leaf layer by its trace name (`outer/inner` for nested models). */
function findLayer(root: LayerLike, name: string): LayerLike | null {
  const walk = (layers: LayerLike[], prefix: string): LayerLike | null => {
    for (const l of layers) {
      if (Array.isArray(l.layers) && l.layers.length > 0) {
        const hit = walk(l.layers, `${prefix}${l.name}/`);
        if (hit) return hit;
      } else if (prefix + l.name === name) return l;
    }
    return null;
  };
  return walk(root.layers ?? [], '');
}
