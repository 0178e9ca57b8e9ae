/**
 * The reference side of a diagnosis, in Node (TF.js cpu or wasm):
 *
 * - `capture`: one run of the reference model that reads back every node's outputs — a trace without
 *   the timing passes `traceInNode` adds (a diagnosis needs values, not kernel times; on the cpu
 *   backend one MobileNet run costs ~1.5 s, so the 4 passes of a full trace would not fit in 5 s).
 * - `replay`: single-node replay. Each requested node runs alone on the reference backend, fed with the
 *   edge trace's own recorded inputs for that node (GraphModel: `execute` with the node's inputs fed by
 *   name and the node as the only output; LayersModel: `layer.apply` on the recorded inputs). Its
 *   output vs the edge's is the node's *own* error; vs the reference trace, the error it inherited.
 */
import { basename } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
export type { ReplayResult } from '../instrument/common.ts';
import { TraceBuilder } from '../trace/events.ts';
import { computeStats } from '../trace/stats.ts';
import { blobIdFor, newTraceId } from '../trace/ids.ts';
import type { BlobData, DType, IOSpec, NamedTensor, NodeRecord, TensorRecord, Trace, TraceEvent } from '../trace/types.ts';
import { collectEnvironment, declaredNodeCount, installHook, isGraphModel, Runner, type TfjsModel } from '../instrument/tfjs/index.ts';
import { tfjsVersion } from '../instrument/tfjs/version.ts';
import { replayTfjsNodes } from '../instrument/tfjs/replay.ts';
import type { ReplayResult } from '../instrument/common.ts';
import { loadTfjsModelFromDir, modelNameOf } from '../models/load-node.ts';
import { modelHash } from '../models/hash.ts';
import { checkFeed, type FeedTensor } from './feed.ts';
import { fileInputNames, modelDirOf } from './trace-node.ts';
import { tf, useBackend, type NodeBackend } from './tfjs-backend.ts';

export interface CaptureMeta {
  modelName?: string;
  label?: string;
  referenceFor?: string;
  source?: NonNullable<Trace['header']['input']['source']>;
  preprocess?: NonNullable<Trace['header']['input']['preprocess']>;
}

const TFJS_DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'string'];
const toDType = (d: string): DType => (TFJS_DTYPES.includes(d as DType) ? (d as DType) : 'float32');

function toBlob(values: ArrayLike<number>, dtype: string): BlobData {
  if (dtype === 'int32') return values instanceof Int32Array ? values.slice() : Int32Array.from(values);
  return values instanceof Float32Array ? values.slice() : Float32Array.from(values);
}

function tensorFrom(data: BlobData, shape: number[], dtype: DType): tfjs.Tensor {
  if (dtype === 'bool') return tf.tensor(Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0)), shape, 'bool');
  if (dtype === 'int32' || data instanceof Int32Array) return tf.tensor(data instanceof Int32Array ? data : Int32Array.from(data), shape, 'int32');
  return tf.tensor(data, shape, 'float32');
}

/** A reference model loaded once, for a capture and any number of single-node replays. */
export class ReferenceSession {
  private constructor(
    readonly backend: NodeBackend,
    readonly modelDir: string,
    readonly model: TfjsModel,
    private readonly modelJson: unknown,
    private readonly sha256: string,
    private readonly envExtra: Awaited<ReturnType<typeof useBackend>>,
    /** The model's name (modelNameOf): the folder's, or the model file's stem. */
    private readonly modelName: string = basename(modelDir),
  ) {}

  static async open(model: string, backend: NodeBackend): Promise<ReferenceSession> {
    const envExtra = await useBackend(backend);
    const dir = await modelDirOf(model);
    const loaded = await loadTfjsModelFromDir(model, tf);
    return new ReferenceSession(backend, dir, loaded.model, loaded.modelJson, await modelHash(model), envExtra, await modelNameOf(model));
  }

  get isLayers(): boolean {
    return !isGraphModel(this.model);
  }

  /** Input specs as the model files declare them. */
  inputSpecs(): IOSpec[] {
    const names = this.isLayers ? fileInputNames(this.modelJson) : undefined;
    return (this.model.inputs as { name: string; shape?: number[]; dtype?: string }[]).map((i, k) => ({
      name: names?.[k] ?? i.name,
      shape: (i.shape ?? []).map((d) => (d == null || d < 0 ? null : d)),
      dtype: toDType(i.dtype ?? 'float32'),
    }));
  }

  private outputNames(): string[] {
    return isGraphModel(this.model) ? this.model.outputNodes : this.model.outputNames;
  }

  /** One run with every node's outputs read back: a `tensors` trace without kernel timing. */
  async capture(feed: FeedTensor[], feedFile: string, meta: CaptureMeta = {}): Promise<Trace> {
    if (tf.getBackend() !== this.backend) await useBackend(this.backend);
    const specs = this.inputSpecs();
    const ordered = checkFeed(specs, feed, feedFile);
    const tensors = ordered.map((f) => tensorFrom(f.data, f.shape, f.dtype === 'float16' ? 'float32' : f.dtype));
    const builder = new TraceBuilder({ source: 'reference capture' });
    const emit = (e: TraceEvent): void => builder.push(e);
    try {
      const inputs: NamedTensor[] = [];
      const inputBlobs: TraceEvent[] = [];
      ordered.forEach((f, k) => {
        const t = tensors[k]!;
        const data = toBlob(f.data, t.dtype);
        const id = blobIdFor(`input:${f.name}`, 0);
        inputBlobs.push({ type: 'blob', id, data });
        inputs.push({ name: f.name, shape: [...t.shape], dtype: toDType(t.dtype), stats: computeStats(data), blob: { id, encoding: data instanceof Int32Array ? 'int32' : 'float32', length: data.length } });
      });
      const outNames = this.outputNames();
      emit({
        type: 'run-start',
        id: newTraceId(),
        createdAt: new Date().toISOString(),
        label: meta.label ?? 'reference',
        capture: 'tensors',
        model: {
          name: meta.modelName ?? this.modelName,
          format: this.isLayers ? 'tfjs-layers' : 'tfjs-graph',
          sha256: this.sha256,
          inputs: specs,
          outputs: (this.model.outputs as { shape?: number[]; dtype?: string }[]).map((o, k) => ({
            name: outNames[k] ?? `output_${k}`,
            shape: (o.shape ?? []).map((d) => (d == null || d < 0 ? null : d)),
            dtype: toDType(o.dtype ?? 'float32'),
          })),
          nodeCount: declaredNodeCount(this.model),
        },
        runtime: { name: 'tfjs', version: tfjsVersion(), backend: tf.getBackend() },
        environment: collectEnvironment(this.envExtra),
        input: { tensors: inputs, ...(meta.source ? { source: meta.source } : {}), ...(meta.preprocess ? { preprocess: meta.preprocess } : {}) },
        ...(meta.referenceFor ? { referenceFor: meta.referenceFor } : {}),
      });
      for (const b of inputBlobs) emit(b);
      const record = (name: string, k: number, t: tfjs.Tensor | null): TensorRecord => {
        if (!t) return { shape: [], dtype: 'float32' };
        const rec: TensorRecord = { shape: [...t.shape], dtype: toDType(t.dtype) };
        if (t.dtype === 'string' || t.dtype === 'complex64') return rec;
        const data = toBlob(t.dataSync() as ArrayLike<number>, t.dtype);
        const id = blobIdFor(name, k);
        emit({ type: 'blob', id, data });
        return { ...rec, stats: computeStats(data), blob: { id, encoding: data instanceof Int32Array ? 'int32' : 'float32', length: data.length } };
      };
      let index = 0;
      const hook = installHook(this.model, {
        onNodeEnd: (v) => {
          const node: NodeRecord = { index: index++, name: v.name, op: v.op, kernels: [], inputs: v.inputs, outputs: v.outputs.map((t, k) => record(v.name, k, t)) };
          emit({ type: 'node', node });
        },
      });
      const feedArg = this.isLayers ? (tensors.length === 1 ? tensors[0]! : tensors) : Object.fromEntries(ordered.map((f, k) => [f.name, tensors[k]!]));
      let outs: tfjs.Tensor[] = [];
      try {
        outs = await new Runner(this.model, feedArg).run();
      } finally {
        hook.uninstall();
      }
      try {
        const outputs: NamedTensor[] = outs.map((t, k) => ({ name: outNames[k] ?? `output_${k}`, ...record(`output:${outNames[k] ?? k}`, 0, t) }));
        emit({ type: 'run-end', outputs, warnings: ['reference capture: one run, values only (no kernel timing)'] });
      } finally {
        tf.dispose(outs);
      }
      return builder.finish();
    } finally {
      tf.dispose(tensors);
    }
  }

  /**
   * Replay each named node alone, fed with the edge trace's recorded inputs for it (the shared code of
   * src/instrument/tfjs/replay.ts). Nodes that cannot be replayed (loop iterations, control flow,
   * inputs not recorded) come back with `error`.
   */
  async replay(edge: Trace, nodes: readonly string[]): Promise<ReplayResult[]> {
    if (tf.getBackend() !== this.backend) await useBackend(this.backend);
    return replayTfjsNodes(this.model, edge, nodes);
  }

  dispose(): void {
    this.model.dispose();
  }
}
