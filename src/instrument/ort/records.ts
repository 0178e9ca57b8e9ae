/**
 * The trace events traceOnnx builds from what it knows, apart from the runs themselves: `run-start`
 * (identity, environment, the exact input with its blobs) and the node records (values captured,
 * else a shape from the profiler or the model). Pure.
 */
import type { CaptureMode, DType, NamedTensor, NodeRecord, TensorRecord, TraceEvent } from '../../trace/types.ts';
import { computeStats } from '../../trace/stats.ts';
import { blobIdFor, newTraceId } from '../../trace/ids.ts';
import type { OnnxGraphInfo, OnnxNode } from '../../onnx/model.ts';
import { dtypeOfOnnx } from '../../onnx/dtypes.ts';
import type { OrtModule, OrtSessionOptions } from './ort-api.ts';
import { ortVersion } from './ort-api.ts';
import { collectOrtEnvironment } from './environment.ts';
import type { RawKernel } from './profile.ts';
import type { OrtInput } from './tensors.ts';
import type { TraceOnnxOptions } from './trace-model.ts';

/** `run-start`, then one blob event per model input. */
export function runStartEvents(
  ort: OrtModule,
  info: OnnxGraphInfo,
  inputs: readonly OrtInput[],
  options: TraceOnnxOptions,
  run: { capture: CaptureMode; nodeCount: number; sessionOptions: OrtSessionOptions; bins: number },
): TraceEvent[] {
  const tensors: NamedTensor[] = [];
  const blobs: TraceEvent[] = [];
  for (const spec of info.inputs) {
    const given = inputs.find((i) => i.name === spec.name)!;
    const id = blobIdFor(`input:${spec.name}`, 0);
    blobs.push({ type: 'blob', id, data: given.data });
    tensors.push({
      name: spec.name,
      shape: [...given.shape],
      dtype: spec.dtype,
      stats: computeStats(given.data, run.bins),
      blob: { id, encoding: given.data instanceof Int32Array ? 'int32' : 'float32', length: given.data.length },
    });
  }
  const ep = options.executionProvider;
  const start: TraceEvent = {
    type: 'run-start',
    id: newTraceId(),
    createdAt: new Date().toISOString(),
    ...(options.label ? { label: options.label } : {}),
    capture: run.capture,
    model: {
      name: options.modelName ?? 'model',
      format: 'onnx',
      sha256: options.modelSha256 ?? '',
      inputs: info.inputs,
      outputs: info.outputs,
      nodeCount: run.nodeCount,
    },
    runtime: { name: options.runtime, version: ortVersion(ort, options.runtime), backend: ep },
    environment: collectOrtEnvironment(ort, options.runtime, ep, run.sessionOptions, options.environment),
    input: {
      tensors,
      ...(options.source ? { source: options.source } : {}),
      ...(options.preprocess ? { preprocess: options.preprocess } : {}),
    },
    ...(options.referenceFor ? { referenceFor: options.referenceFor } : {}),
  };
  return [start, ...blobs];
}

/**
 * The node records, in `nodes`' order, emitted as soon as each is final: `through(name)` after a node's
 * values are read emits every node up to it (nodes before it that no pass exposes are final already),
 * so rows stream while a capture pass is read rather than all at once after the last pass; `rest()`
 * emits the others. A record has captured values where there are some, else the shape the profiler saw
 * when the node ran as itself (a kernel named after it, of its op: a fused or re-laid-out kernel's
 * shapes are not the node's), else a static declared one. `warning()` counts outputs left without any
 * shape (body nodes with a note say why themselves and are not counted).
 */
export class NodeRecordStream {
  private next = 0;
  private shapeless = 0;
  private readonly indexOf: Map<string, number>;
  /** onnxruntime-node's CPU EP may run parts of the graph in a blocked layout (NCHWc: 5-D tensors between
   *  ReorderInput and ReorderOutput kernels); the profiler then reports blocked shapes, not the model's. */
  private readonly relaidOut: boolean;

  constructor(
    private readonly nodes: readonly OnnxNode[],
    private readonly info: OnnxGraphInfo,
    private readonly raw: readonly RawKernel[],
    private readonly kernelsOf: ReadonlyMap<string, number[]>,
    private readonly captured: ReadonlyMap<string, (TensorRecord | undefined)[]>,
    private readonly notes: ReadonlyMap<string, string>,
    private readonly emit: (node: NodeRecord) => void,
  ) {
    this.indexOf = new Map(nodes.map((n, i) => [n.name, i]));
    this.relaidOut = raw.some((r) => r.op === 'ReorderInput' || r.op === 'ReorderOutput');
  }

  /** Emit every node up to and including `name` not emitted yet. */
  through(name: string): void {
    const last = this.indexOf.get(name);
    if (last !== undefined) this.upTo(last + 1);
  }

  /** Emit every node not emitted yet. */
  rest(): void {
    this.upTo(this.nodes.length);
  }

  warning(): string | undefined {
    if (this.shapeless === 0) return undefined;
    return `${this.shapeless} node output(s) have no recorded shape (no values, and neither the model nor the profiler gives one${this.relaidOut ? ": onnxruntime ran parts of the graph in a blocked layout (NCHWc), so profiler shapes are not the model's" : ''}): recorded as []`;
  }

  private upTo(end: number): void {
    for (; this.next < end; this.next++) this.emit(this.record(this.nodes[this.next]!, this.next));
  }

  private record(n: OnnxNode, index: number): NodeRecord {
    const ks = this.kernelsOf.get(n.name) ?? [];
    const got = this.captured.get(n.name);
    const outputs = n.outputs.map((v, k): TensorRecord => {
      const rec = got?.[k];
      if (rec) return rec;
      const t = this.info.valueTypes.get(v);
      const own = this.relaidOut ? undefined : ks.map((i) => this.raw[i]!).find((r) => r.ortName === n.protoName && r.op === n.op);
      const fromKernel = own?.outputShapes[k];
      const declared = t?.shape && t.shape.every((d) => d !== null) ? (t.shape as number[]) : undefined;
      const shape = fromKernel ?? declared;
      if (!shape && !this.notes.has(n.name)) this.shapeless++;
      return { shape: shape ?? [], dtype: t && t.kind === 'tensor' ? dtypeOfOnnx(t.elemType) : ('float32' as DType) };
    });
    const note = this.notes.get(n.name);
    return { index, name: n.name, op: n.op, kernels: ks, outputs, inputs: n.producers, ...(note ? { note } : {}) };
  }
}
