/**
 * The agent's onnxruntime side, part 2: one captured inference made into a trace's parts.
 *
 * - The app's feeds are copied when `run` is called (before onnxruntime-web's proxy mode transfers
 *   their buffers, before the app can dispose them); its results when its run resolves.
 * - Node values come from a second session exray creates from the same model bytes, rewritten so that
 *   every node output comes back from a run, those inside control-flow bodies too (ort-capture-model.ts,
 *   as `traceOnnx` does), with the app's execution providers and session options, run on the copied
 *   feeds after the app's own run. Its final outputs are checked against the app's.
 *
 * Nothing here imports onnxruntime: the session factory and the tensor class come from the caller.
 */
import type { BlobData, DType, IOSpec, NamedTensor, NodeRecord, TensorRecord } from '../trace/types.ts';
import { computeStats } from '../trace/stats.ts';
import { blobIdFor } from '../trace/ids.ts';
import { dtypeOfOnnx, dtypeOfOrt } from '../onnx/dtypes.ts';
import { isBodyNode } from '../onnx/subgraphs.ts';
import { bodyOutputs } from '../instrument/ort/subgraph-capture.ts';
import type { CaptureModel } from './ort-capture-model.ts';
import { maxAbsDiff, tensorValues, type TensorValues } from '../instrument/ort/tensors.ts';
import type { OrtTensor } from '../instrument/ort/ort-api.ts';

/** A private copy of one input the app fed. */
export interface FeedCopy {
  name: string;
  /** onnxruntime's tensor type (`float32`, `int64`, …). */
  type: string;
  dims: number[];
  /** A typed array (or a string array) of the app's values. */
  data: ArrayLike<unknown>;
}

interface TensorLike {
  type?: unknown;
  dims?: unknown;
  location?: unknown;
  data?: unknown;
}

function isTensorLike(x: unknown): x is TensorLike {
  return x !== null && typeof x === 'object' && typeof (x as TensorLike).type === 'string' && Array.isArray((x as TensorLike).dims);
}

function onCpu(t: TensorLike): boolean {
  return t.location === undefined || t.location === 'cpu' || t.location === 'cpu-pinned';
}

/**
 * Copy the app's feeds now. A feed that is not a CPU tensor (a GPU buffer, an MLTensor, a non-tensor
 * value) makes the inference uncapturable: `reason` says which.
 */
export function copyFeeds(feeds: unknown): { copies: FeedCopy[] } | { reason: string } {
  if (feeds === null || typeof feeds !== 'object') return { reason: 'the feeds are not an object of tensors' };
  const copies: FeedCopy[] = [];
  for (const [name, t] of Object.entries(feeds as Record<string, unknown>)) {
    if (!isTensorLike(t)) return { reason: `input "${name}" is not a tensor` };
    if (!onCpu(t)) return { reason: `input "${name}" is located on '${String(t.location)}' (only CPU-located inputs can be copied without waiting for the GPU)` };
    const d = t.data as { slice?: () => ArrayLike<unknown> } | undefined;
    if (!d || typeof d.slice !== 'function') return { reason: `input "${name}" has no readable data` };
    copies.push({ name, type: t.type as string, dims: (t.dims as unknown[]).map(Number), data: d.slice() });
  }
  return { copies };
}

/** Fresh onnxruntime tensors of the copied feeds, for one run of exray's capture session. */
export function ortFeeds(ort: { Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown }, feeds: readonly FeedCopy[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of feeds) out[f.name] = new ort.Tensor(f.type as 'float32', (f.data as Float32Array).slice(), f.dims);
  return out;
}

/** Trace values of a copied feed (int64 → int32 when every value fits; strings → no values). */
export function feedValues(f: FeedCopy): TensorValues {
  return tensorValues({ type: f.type, dims: f.dims, location: 'cpu', data: f.data } as unknown as OrtTensor);
}

/** Values of the app's run result, read now (fresh arrays). GPU-located outputs have no values. */
export function copyResult(result: unknown): Map<string, TensorValues> {
  const out = new Map<string, TensorValues>();
  if (result === null || typeof result !== 'object') return out;
  for (const [name, t] of Object.entries(result as Record<string, unknown>)) {
    if (!isTensorLike(t)) continue;
    try {
      out.set(name, tensorValues(t as unknown as OrtTensor));
    } catch {
      out.set(name, { shape: (t.dims as unknown[]).map(Number), dtype: dtypeOfOrt(t.type as string), data: null, approximate: false });
    }
  }
  return out;
}


/** Everything known about one captured inference when its trace is assembled. */
export interface CaptureParts {
  feeds: FeedCopy[];
  /** The app's own results, read when its run resolved. */
  results: Map<string, TensorValues>;
  /** The model's graph and capture rewrite (ort-capture-model.ts), when exray has the model bytes. */
  model: Pick<CaptureModel, 'info' | 'nodes' | 'bodies'> | null;
  /**
   * The capture session's outputs, when it ran (by graph output name: main-graph values under their
   * own names, body values under the rewrite's). Read and disposed here, but for the model's outputs.
   */
  captured: Record<string, OrtTensor | undefined> | null;
  keepNodeValues: boolean;
  bins: number;
  /** The execution provider the capture session ran on (for the trace's warning). */
  ep: string;
}

export interface AssembledRun {
  inputs: NamedTensor[];
  declaredInputs: IOSpec[];
  declaredOutputs: IOSpec[];
  nodes: NodeRecord[];
  outputs: NamedTensor[];
  blobs: Map<string, BlobData>;
  warnings: string[];
  /** The capture session's final outputs against the app's: names with their max |Δ| (empty: identical). */
  differing: string[];
  /** Where node values come from, and whether that session's outputs equal the app's (when it ran). */
  source: string | null;
}

/** Names in the model's declared order first, then any others in their own order. */
function ordered(names: string[], declared: IOSpec[] | undefined): string[] {
  const d = (declared ?? []).map((s) => s.name).filter((n) => names.includes(n));
  return [...d, ...names.filter((n) => !d.includes(n))];
}

/**
 * Every node's outputs from the capture run: main-graph values by their own names, body values where
 * the rewrite brought them out and their branch ran (bodyOutputs: else the node's note says why).
 * Each exposed tensor is disposed once read; the model's outputs are left for the caller.
 */
function readNodes(
  model: Pick<CaptureModel, 'info' | 'nodes' | 'bodies'>,
  outs: Record<string, OrtTensor | undefined>,
  record: (node: string, k: number, v: TensorValues) => TensorRecord,
  captured: Map<string, (TensorRecord | undefined)[]>,
  notes: Map<string, string>,
): void {
  const graphOutputs = new Set(model.info.outputs.map((o) => o.name));
  for (const n of model.nodes) {
    let keys: (string | undefined)[] = n.outputs;
    if (isBodyNode(n)) {
      const read = model.bodies
        ? bodyOutputs(n, outs, model.bodies)
        : { tensors: [], note: 'not captured: the runtime could not load or run the model rewritten to expose subgraph values (see the warnings)' };
      keys = read.tensors.length > 0 ? n.outputs.map((_, k) => model.bodies?.values.get(n.name)?.[k]?.output) : [];
      if (read.note) notes.set(n.name, read.note);
    }
    const recs = n.outputs.map((v, k): TensorRecord | undefined => {
      const key = keys[k];
      const t = key === undefined ? undefined : outs[key];
      if (!t || key === undefined) return undefined;
      const rec = record(n.name, k, tensorValues(t));
      if (!graphOutputs.has(v)) {
        try {
          t.dispose();
        } catch {
          // onnxruntime-node's CPU tensors have nothing to free.
        }
        outs[key] = undefined;
      }
      return rec;
    });
    if (recs.some((r) => r !== undefined)) captured.set(n.name, recs);
  }
}

/**
 * Inputs, nodes and outputs of a captured inference, with their blobs. The capture session's outputs
 * are all disposed when this returns.
 */
export function assembleRun(p: CaptureParts): AssembledRun {
  try {
    const parts = assembleParts(p);
    const source = p.captured
      ? `node values come from a second onnxruntime session exray created from the same model bytes with every node output exposed as a graph output (values inside If / Loop / Scan bodies brought out through their node), on the same execution provider (${p.ep}) and session options, run on a copy of this inference's inputs after the app's own run; the inputs and outputs are the app's own. ${
          parts.differing.length === 0
            ? "That session's final outputs equal the app's exactly."
            : `That session's final outputs differ from the app's: ${parts.differing.join(', ')} (onnxruntime optimises the rewritten graph differently: fewer fusions).`
        }`
      : null;
    return { ...parts, source };
  } finally {
    for (const t of Object.values(p.captured ?? {})) {
      try {
        t?.dispose();
      } catch {
        // onnxruntime-node's CPU tensors have nothing to free.
      }
    }
  }
}

function assembleParts(p: CaptureParts): Omit<AssembledRun, 'source'> {
  const info = p.model?.info ?? null;
  const blobs = new Map<string, BlobData>();
  const warnings: string[] = [];
  const approximate: string[] = [];
  const record = (node: string, k: number, v: TensorValues, withBlob: boolean, dtype?: DType): TensorRecord => {
    const rec: TensorRecord = { shape: v.shape, dtype: dtype ?? v.dtype };
    if (!v.data) return rec;
    if (v.approximate) approximate.push(node);
    rec.stats = computeStats(v.data, p.bins);
    if (withBlob) {
      const id = blobIdFor(node, k);
      blobs.set(id, v.data);
      rec.blob = { id, encoding: v.data instanceof Int32Array ? 'int32' : 'float32', length: v.data.length };
    }
    return rec;
  };

  // ---- inputs: the app's feeds, always with their values -------------------------------------------
  const inputs: NamedTensor[] = [];
  const feedByName = new Map(p.feeds.map((f) => [f.name, f]));
  for (const name of ordered([...feedByName.keys()], info?.inputs)) {
    const f = feedByName.get(name)!;
    const v = feedValues(f);
    if (!v.data) {
      warnings.push(`input ${name} has no numeric values (${f.type}): not in the trace's inputs`);
      continue;
    }
    const declared = info?.inputs.find((s) => s.name === name)?.dtype;
    inputs.push({ name, ...record(`input:${name}`, 0, v, true, declared) });
  }

  // ---- nodes: values from the capture session, body nodes' where their branch ran ---------------------
  const nodes: NodeRecord[] = [];
  const differing: string[] = [];
  if (p.model && info) {
    const captured = new Map<string, (TensorRecord | undefined)[]>();
    const notes = new Map<string, string>();
    if (p.captured) {
      // The model's outputs first (readPassNodes keeps them): the capture session's against the app's.
      for (const [name, v] of p.results) {
        const t = p.captured[name];
        const c = t ? tensorValues(t) : undefined;
        if (!c?.data || !v.data) continue;
        if (c.data.length !== v.data.length) differing.push(`${name} (shape [${c.shape}] vs [${v.shape}])`);
        else {
          const d = maxAbsDiff(c.data, v.data);
          if (d !== 0) differing.push(`${name} (max |Δ| ${Number.isNaN(d) ? 'NaN' : d.toPrecision(3)})`);
        }
      }
      readNodes(p.model, p.captured, (node, k, v) => record(node, k, v, p.keepNodeValues), captured, notes);
    }
    p.model.nodes.forEach((n, index) => {
      const got = captured.get(n.name);
      const outputs = n.outputs.map((value, k): TensorRecord => {
        const rec = got?.[k];
        if (rec) return rec;
        const t = info.valueTypes.get(value);
        const shape = t?.shape && t.shape.every((d) => d !== null) ? (t.shape as number[]) : [];
        return { shape, dtype: t && t.kind === 'tensor' ? dtypeOfOnnx(t.elemType) : 'float32' };
      });
      const note = notes.get(n.name);
      nodes.push({ index, name: n.name, op: n.op, kernels: [], outputs, inputs: n.producers, ...(note ? { note } : {}) });
    });
  }

  // ---- outputs: the app's own results, always with their values --------------------------------------
  const outputs: NamedTensor[] = [];
  ordered([...p.results.keys()], info?.outputs).forEach((name, k) => {
    const v = p.results.get(name)!;
    if (v.data) outputs.push({ name, ...record(`output:${name}`, k, v, true) });
    else warnings.push(`model output ${name} has no values exray could read (${v.dtype}, or not on the CPU): not in the trace's outputs`);
  });

  if (approximate.length > 0) {
    warnings.push(`int64 values outside the int32 range are stored as float32 (approximate) for: ${[...new Set(approximate)].slice(0, 20).join(', ')}`);
  }
  const fromValues = (list: NamedTensor[]): IOSpec[] => list.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype }));
  return {
    inputs,
    declaredInputs: info ? info.inputs : fromValues(inputs),
    declaredOutputs: info ? info.outputs : fromValues(outputs),
    nodes,
    outputs,
    blobs,
    warnings,
    differing,
  };
}
