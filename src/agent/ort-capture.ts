/**
 * The agent's onnxruntime side, part 2: one captured inference made into a trace's parts.
 *
 * - The app's feeds are copied when `run` is called (before onnxruntime-web's proxy mode transfers
 *   their buffers, before the app can dispose them); its results when its run resolves.
 * - Node values come from a second session exray creates from the same model bytes, rewritten so that
 *   every node output is a graph output (src/onnx/model.ts `exposeAllOutputs`, as `traceOnnx` does),
 *   with the app's execution providers and session options, run on the copied feeds after the app's
 *   own run. Its final outputs are checked against the app's.
 *
 * Nothing here imports onnxruntime: the session factory and the tensor class come from the caller.
 */
import type { BlobData, DType, IOSpec, NamedTensor, NodeRecord, TensorRecord } from '../trace/types.ts';
import { computeStats } from '../trace/stats.ts';
import { blobIdFor } from '../trace/ids.ts';
import { dtypeOfOnnx, dtypeOfOrt } from '../onnx/dtypes.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, exposeAllOutputs, type OnnxGraphInfo } from '../onnx/model.ts';
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


/** The model as exray's capture session runs it. */
export interface CaptureModel {
  info: OnnxGraphInfo;
  /** null: the execution provider refused the rewritten model (`failure` says why). */
  session: unknown;
  failure: string | null;
  /** What exposing every node output could not do (subgraph values, non-tensors). */
  exposedWarnings: string[];
}

/**
 * Parse the model, rewrite it so every node output is a graph output, and create a session of it with
 * `create` (the app's original `InferenceSession.create`, the app's options). A session that cannot be
 * created is a `failure`, not an error: the capture keeps the inputs and outputs.
 */
export async function prepareCaptureModel(bytes: Uint8Array, fileName: string, create: (model: Uint8Array) => Promise<unknown>): Promise<CaptureModel> {
  const model = decodeOnnx(bytes, fileName);
  const info = describeOnnx(model);
  const exposed = exposeAllOutputs(model, info);
  try {
    return { info, session: await create(encodeOnnx(exposed.model)), failure: null, exposedWarnings: exposed.warnings };
  } catch (e) {
    return { info, session: null, failure: e instanceof Error ? e.message : String(e), exposedWarnings: exposed.warnings };
  }
}

/** Everything known about one captured inference when its trace is assembled. */
export interface CaptureParts {
  feeds: FeedCopy[];
  /** The app's own results, read when its run resolved. */
  results: Map<string, TensorValues>;
  /** The model's graph, when exray has the model bytes. */
  info: OnnxGraphInfo | null;
  /** The capture session's outputs by value name, when it ran. */
  captured: Map<string, TensorValues> | null;
  keepNodeValues: boolean;
  bins: number;
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
}

/** Names in the model's declared order first, then any others in their own order. */
function ordered(names: string[], declared: IOSpec[] | undefined): string[] {
  const d = (declared ?? []).map((s) => s.name).filter((n) => names.includes(n));
  return [...d, ...names.filter((n) => !d.includes(n))];
}

/** Inputs, nodes and outputs of a captured inference, with their blobs. */
export function assembleRun(p: CaptureParts): AssembledRun {
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
  for (const name of ordered([...feedByName.keys()], p.info?.inputs)) {
    const f = feedByName.get(name)!;
    const v = feedValues(f);
    if (!v.data) {
      warnings.push(`input ${name} has no numeric values (${f.type}): not in the trace's inputs`);
      continue;
    }
    const declared = p.info?.inputs.find((s) => s.name === name)?.dtype;
    inputs.push({ name, ...record(`input:${name}`, 0, v, true, declared) });
  }

  // ---- nodes: values from the capture session --------------------------------------------------------
  const nodes: NodeRecord[] = [];
  if (p.info) {
    p.info.nodes.forEach((n, index) => {
      const outputs = n.outputs.map((value, k): TensorRecord => {
        const got = p.captured?.get(value);
        if (got?.data) return record(n.name, k, got, p.keepNodeValues);
        const t = p.info!.valueTypes.get(value);
        const shape = got?.shape ?? (t?.shape && t.shape.every((d) => d !== null) ? (t.shape as number[]) : []);
        return { shape, dtype: got?.dtype ?? (t && t.kind === 'tensor' ? dtypeOfOnnx(t.elemType) : 'float32') };
      });
      nodes.push({ index, name: n.name, op: n.op, kernels: [], outputs, inputs: n.producers });
    });
  }

  // ---- the capture session's final outputs against the app's -----------------------------------------
  const differing: string[] = [];
  if (p.captured) {
    for (const [name, v] of p.results) {
      const c = p.captured.get(name);
      if (!c?.data || !v.data) continue;
      if (c.data.length !== v.data.length) differing.push(`${name} (shape [${c.shape}] vs [${v.shape}])`);
      else {
        const d = maxAbsDiff(c.data, v.data);
        if (d !== 0) differing.push(`${name} (max |Δ| ${Number.isNaN(d) ? 'NaN' : d.toPrecision(3)})`);
      }
    }
  }

  // ---- outputs: the app's own results, always with their values --------------------------------------
  const outputs: NamedTensor[] = [];
  ordered([...p.results.keys()], p.info?.outputs).forEach((name, k) => {
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
    declaredInputs: p.info ? p.info.inputs : fromValues(inputs),
    declaredOutputs: p.info ? p.info.outputs : fromValues(outputs),
    nodes,
    outputs,
    blobs,
    warnings,
    differing,
  };
}
