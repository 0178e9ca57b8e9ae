/**
 * Synthetic traces for tests and benchmarks of the comparison engine (not part of the public API).
 * Pure: no DOM, no Node.
 */

import type { BlobData, CaptureMode, DType, NamedTensor, NodeRecord, TensorRecord, TensorStats, Trace } from '../trace/types.ts';
import { TRACE_FORMAT, TRACE_VERSION } from '../trace/types.ts';

import { randn, rng } from '../trace/random.ts';

export { randn, rng };

export interface SyntheticTensor {
  shape: number[];
  dtype?: DType;
  /** Stored as a blob (tensors capture). */
  data?: BlobData;
  /** Stored as stats (stats capture); ignored when `data` is set unless `statsToo`. */
  stats?: TensorStats;
}

export interface SyntheticNode {
  name: string;
  op: string;
  outputs: SyntheticTensor[];
  inputs?: string[];
}

export interface SyntheticTraceSpec {
  id?: string;
  label?: string;
  backend?: string;
  capture?: CaptureMode;
  sha256?: string;
  referenceFor?: string;
  inputs?: (SyntheticTensor & { name: string })[];
  nodes: SyntheticNode[];
  outputs?: (SyntheticTensor & { name: string })[];
}

/** Builds an in-memory Trace; blob ids are `b0`, `b1`, ... */
export function makeTrace(spec: SyntheticTraceSpec): Trace {
  const blobs = new Map<string, BlobData>();
  const record = (t: SyntheticTensor): TensorRecord => {
    const rec: TensorRecord = { shape: t.shape, dtype: t.dtype ?? (t.data instanceof Int32Array ? 'int32' : 'float32') };
    if (t.stats) rec.stats = t.stats;
    if (t.data) {
      const id = `b${blobs.size}`;
      blobs.set(id, t.data);
      rec.blob = { id, encoding: t.data instanceof Int32Array ? 'int32' : 'float32', length: t.data.length };
    }
    return rec;
  };
  const named = (t: SyntheticTensor & { name: string }): NamedTensor => ({ name: t.name, ...record(t) });
  const nodes: NodeRecord[] = spec.nodes.map((n, index) => ({
    index,
    name: n.name,
    op: n.op,
    kernels: [],
    outputs: n.outputs.map(record),
    inputs: n.inputs ?? [],
  }));
  const id = spec.id ?? 'trace';
  return {
    header: {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      id,
      createdAt: '2025-01-01T00:00:00.000Z',
      ...(spec.label !== undefined ? { label: spec.label } : {}),
      capture: spec.capture ?? 'tensors',
      model: { name: 'synthetic', format: 'tfjs-graph', sha256: spec.sha256 ?? '0'.repeat(64), inputs: [], outputs: [], nodeCount: nodes.length },
      runtime: { name: 'tfjs', version: '4.22.0', backend: spec.backend ?? 'cpu' },
      environment: { kind: 'node', userAgent: 'synthetic', platform: 'synthetic', hardwareConcurrency: 1, flags: {} },
      input: { tensors: (spec.inputs ?? []).map(named) },
      nodes,
      kernels: [],
      outputs: (spec.outputs ?? []).map(named),
      warnings: [],
      ...(spec.referenceFor !== undefined ? { referenceFor: spec.referenceFor } : {}),
    },
    blobs,
  };
}

export interface ChainOptions {
  /** Number of nodes in the chain. */
  nodes: number;
  /** Elements per node output. */
  elements: number;
  seed?: number;
  /** Relative noise added to every edge value (float32-rounding-like), e.g. 1e-7. */
  noise?: number;
  /** Index of the node whose output gets an injected error that then propagates downstream. */
  injectAt?: number;
  /** Size of the injected error, absolute, added to every element of that node (default 0.05). */
  injectSize?: number;
  /** Number of classes of the final (softmax) output. */
  classes?: number;
}

/**
 * A pair of traces (edge, reference) for a chain model x_{i+1} = 0.9·x_i + 0.1·sin(x_i + i), the edge
 * carrying small noise and optionally an injected error at node `injectAt` that propagates (the edge
 * computes downstream nodes from its own, erroneous values, as a real runtime does).
 */
export function makeChainPair(o: ChainOptions): { edge: Trace; ref: Trace } {
  const seed = o.seed ?? 1;
  const noise = o.noise ?? 0;
  const classes = o.classes ?? 10;
  const r = rng(seed + 1);
  const input = randn(o.elements, seed);
  let xr = Float32Array.from(input);
  let xe = Float32Array.from(input);
  const en: SyntheticNode[] = [];
  const rn: SyntheticNode[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const nr = new Float32Array(o.elements);
    const ne = new Float32Array(o.elements);
    for (let j = 0; j < o.elements; j++) {
      nr[j] = 0.9 * (xr[j] as number) + 0.1 * Math.sin((xr[j] as number) + i);
      const v = 0.9 * (xe[j] as number) + 0.1 * Math.sin((xe[j] as number) + i);
      ne[j] = v * (1 + noise * (2 * r() - 1)) + (i === o.injectAt ? (o.injectSize ?? 0.05) : 0);
    }
    const name = `layer_${i}`;
    const inputs = i === 0 ? ['input'] : [`layer_${i - 1}`];
    en.push({ name, op: i % 2 === 0 ? 'Conv2D' : 'Relu', outputs: [{ shape: [1, o.elements], data: ne }], inputs });
    rn.push({ name, op: i % 2 === 0 ? 'Conv2D' : 'Relu', outputs: [{ shape: [1, o.elements], data: nr }], inputs });
    xr = nr;
    xe = ne;
  }
  const softmax = (x: Float32Array): Float32Array => {
    const logits = x.subarray(0, classes);
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let s = 0;
    for (const v of logits) s += Math.exp(v - max);
    return Float32Array.from(logits, (v) => Math.exp(v - max) / s);
  };
  const mk = (nodes: SyntheticNode[], last: Float32Array, id: string, backend: string): Trace =>
    makeTrace({
      id,
      backend,
      inputs: [{ name: 'input', shape: [1, o.elements], data: Float32Array.from(input) }],
      nodes,
      outputs: [{ name: 'probs', shape: [1, classes], data: softmax(last) }],
    });
  return { edge: mk(en, xe, 'edge', 'webgl'), ref: mk(rn, xr, 'ref', 'cpu') };
}
