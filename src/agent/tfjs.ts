/**
 * The agent's TF.js side: patches, at the prototype level, the inference methods of the app's own
 * TF.js (`GraphModel.execute/executeAsync/predict/predictAsync`, `LayersModel.predict/execute`,
 * `Sequential.predict`), so every inference any model of the app makes passes through here.
 *
 * - A timing-only inference costs a clock read and a counter: the method is called as it is.
 * - A captured inference installs the per-node hooks (src/instrument/tfjs/hooks.ts) on that model for
 *   that call, reads every node's outputs while they are alive (cpu/wasm: synchronously; webgl/webgpu:
 *   a kept clone, a shared texture, read back after the call returns) and the inputs and outputs the
 *   same way, then hands a finished CapturedRun to the sink. The app gets exactly the tensors the
 *   unpatched method returns: nothing exray does writes to a tensor the model uses.
 * - Nested calls (predict → execute) pass through: only the outermost call of a model is traced.
 * - Nothing here imports TF.js: it works on the `tf` the app passed (a second copy would be a second
 *   engine, with other backends and flags).
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { BlobData, DType, IOSpec, NamedTensor, NodeRecord, TensorRecord } from '../trace/types.ts';
import { computeStats } from '../trace/stats.ts';
import { blobIdFor } from '../trace/ids.ts';
import { declaredNodeCount, installHook, isGraphModel, type TfjsModel } from '../instrument/tfjs/hooks.ts';
import { bindStatsToWasmHeap } from '../instrument/tfjs/wasm-heap.ts';
import { collectEnvironmentOf } from '../instrument/tfjs/environment-of.ts';
import type { AgentHost, CapturedRun } from './types.ts';

/** The slice of the app's TF.js namespace the agent uses (`import * as tf from '@tensorflow/tfjs'`, or the `tf` global). */
export type TfApi = Pick<typeof TfCore, 'env' | 'backend' | 'getBackend' | 'keep' | 'dispose'> & {
  GraphModel?: { prototype: object };
  LayersModel?: { prototype: object };
  Sequential?: { prototype: object };
  version_core?: string;
  version?: Record<string, string>;
  io?: { withSaveHandler?: (fn: (a: unknown) => Promise<unknown>) => unknown };
};

export function isTfApi(x: unknown): x is TfApi {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Partial<TfApi>;
  return typeof t.getBackend === 'function' && typeof t.keep === 'function' && (typeof t.GraphModel === 'function' || typeof t.LayersModel === 'function');
}

const GRAPH_METHODS = ['execute', 'executeAsync', 'predict', 'predictAsync'] as const;
const LAYERS_METHODS = ['predict', 'execute'] as const;
const SYNC_BACKENDS = new Set(['cpu', 'wasm']);
const TFJS_DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'string'];

type Method = (this: TfjsModel, ...args: unknown[]) => unknown;

/** TF.js wasm's view of a tensor's memory (read-only use, during the node's end). */
interface WasmBackendLike {
  typedArrayFromHeap(t: Tensor): Float32Array | Int32Array | Uint8Array;
}


function toDType(d: string): DType {
  return TFJS_DTYPES.includes(d as DType) ? (d as DType) : 'float32';
}

function blobOf(values: ArrayLike<number>, dtype: string): BlobData {
  // Always a copy: cpu hands out its own storage, and the blob outlives the call.
  return dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
}

function tensorsOf(x: unknown): Tensor[] {
  if (x === null || x === undefined) return [];
  if (Array.isArray(x)) return x.filter(isTensorLike);
  if (isTensorLike(x)) return [x];
  if (typeof x === 'object') return Object.values(x as Record<string, unknown>).filter(isTensorLike);
  return [];
}

function namesOf(x: unknown, declared: string[], prefix: string): string[] {
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && !isTensorLike(x)) {
    return Object.entries(x as Record<string, unknown>).filter(([, v]) => isTensorLike(v)).map(([k]) => k);
  }
  const n = tensorsOf(x).length;
  return Array.from({ length: n }, (_, k) => declared[k] ?? `${prefix}_${k}`);
}

function isTensorLike(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && 'dataId' in x && 'shape' in x && typeof (x as Tensor).dataSync === 'function';
}

interface IOInfo {
  name?: string;
  shape?: readonly (number | null)[];
  dtype?: string;
}

function ioSpecs(infos: IOInfo[] | undefined, names: string[]): IOSpec[] {
  return (infos ?? []).map((info, k) => ({
    name: names[k] ?? info.name ?? `io_${k}`,
    shape: (info.shape ?? []).map((d) => (d == null || d < 0 ? null : d)),
    dtype: toDType(info.dtype ?? 'float32'),
  }));
}

function declaredInputs(model: TfjsModel): string[] {
  return ((model.inputs as IOInfo[] | undefined) ?? []).map((i, k) => i.name ?? `input_${k}`);
}

function declaredOutputs(model: TfjsModel): string[] {
  return (isGraphModel(model) ? model.outputNodes : model.outputNames) ?? [];
}

/** A value read now (sync backends) or a kept clone read later (GPU backends). */
type Pending = { values: ArrayLike<number> } | { clone: Tensor } | null;

interface PendingTensor {
  shape: number[];
  dtype: string;
  data: Pending;
}

/** Patches the app's TF.js; `restore()` puts every method back. */
export class TfjsPatch {
  private readonly restores: (() => void)[] = [];
  private readonly inside = new WeakSet<object>();

  constructor(
    private readonly tf: TfApi,
    private readonly host: AgentHost,
  ) {
    if (tf.GraphModel) this.patch(tf.GraphModel.prototype, GRAPH_METHODS);
    if (tf.LayersModel) this.patch(tf.LayersModel.prototype, LAYERS_METHODS);
    if (tf.Sequential && tf.Sequential.prototype !== tf.LayersModel?.prototype) this.patch(tf.Sequential.prototype, ['predict']);
  }

  restore(): void {
    for (const r of this.restores.splice(0).reverse()) r();
  }

  private patch(proto: object, names: readonly string[]): void {
    const target = proto as Record<string, unknown>;
    for (const name of names) {
      if (!Object.prototype.hasOwnProperty.call(proto, name)) continue;
      const orig = target[name];
      if (typeof orig !== 'function') continue;
      const call = (model: TfjsModel, a: unknown[]): unknown => this.call(model, orig as Method, a);
      // A plain function: the model is `this` of the app's call.
      const wrapped = function (this: TfjsModel, ...args: unknown[]): unknown {
        return call(this, args);
      };
      Object.defineProperty(wrapped, 'name', { value: name });
      target[name] = wrapped;
      this.restores.push(() => {
        // Only put ours back if nobody patched over us since.
        if (target[name] === wrapped) target[name] = orig;
      });
    }
  }

  private call(model: TfjsModel, orig: Method, args: unknown[]): unknown {
    if (this.inside.has(model)) return orig.apply(model, args);
    let decision: 'capture' | 'timing' = 'timing';
    try {
      decision = this.host.decide(model);
    } catch (e) {
      this.host.problem('sampling', e);
    }
    this.inside.add(model);
    try {
      return decision === 'capture' ? this.capture(model, orig, args) : this.time(model, orig, args);
    } finally {
      this.inside.delete(model);
    }
  }

  private time(model: TfjsModel, orig: Method, args: unknown[]): unknown {
    const t0 = this.host.now();
    const out = orig.apply(model, args);
    if (out instanceof Promise) {
      return out.then((v: unknown) => {
        this.host.timed(model, this.host.now() - t0, false);
        return v;
      });
    }
    this.host.timed(model, this.host.now() - t0, true);
    return out;
  }

  /** Read a tensor now (sync backends) or keep a clone of it (GPU). Never throws. */
  private grab(t: Tensor | null | undefined, sync: boolean, wantValues: boolean): PendingTensor {
    if (!t) return { shape: [], dtype: 'float32', data: null };
    const shape = [...t.shape];
    const dtype = t.dtype;
    if (!wantValues || dtype === 'string' || dtype === 'complex64' || t.isDisposed) return { shape, dtype, data: null };
    try {
      if (sync) return { shape, dtype, data: { values: t.dataSync() as ArrayLike<number> } };
      return { shape, dtype, data: { clone: this.tf.keep(t.clone()) } };
    } catch (e) {
      this.host.problem('reading a tensor', e);
      return { shape, dtype, data: null };
    }
  }

  private capture(model: TfjsModel, orig: Method, args: unknown[]): unknown {
    const backend = this.tf.getBackend();
    const sync = SYNC_BACKENDS.has(backend);
    const settings = this.host.settings();
    const keepNodes = settings.capture === 'tensors';
    const bins = settings.histogramBins;
    // wasm: node statistics read the heap in place (no copy into the kernel's memory). Never throws.
    if (backend === 'wasm' && !keepNodes) {
      try {
        bindStatsToWasmHeap(this.tf.backend(), bins);
      } catch (e) {
        this.host.problem('node statistics', e);
      }
    }
    const t0 = this.host.now();
    const warnings: string[] = [];
    const feed = args[0];
    const inNames = namesOf(feed, declaredInputs(model), 'input');
    const inputs = tensorsOf(feed).map((t) => this.grab(t, sync, true));
    // Node outputs: stats computed in the hook on sync backends (no copy kept in `stats` capture).
    interface NodeGrab {
      name: string;
      op: string;
      inputs: string[];
      outputs: (PendingTensor & { stats?: ReturnType<typeof computeStats> })[];
    }
    const nodes: NodeGrab[] = [];
    let hook: { uninstall(): void } | null = null;
    try {
      hook = installHook(model, {
        onNodeEnd: (v) => {
          const outputs = v.outputs.map((t) => {
            // Statistics only, on wasm: a view of the heap is enough (no copy), as the capture pass does.
            if (!keepNodes && backend === 'wasm' && t && !t.isDisposed && (t.dtype === 'float32' || t.dtype === 'int32')) {
              try {
                const view = (this.tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(t);
                return { shape: [...t.shape], dtype: t.dtype, data: null, stats: computeStats(view, bins) };
              } catch (e) {
                this.host.problem('node statistics', e);
              }
            }
            const g = this.grab(t, sync, true);
            if (sync && g.data && 'values' in g.data && !keepNodes) {
              try {
                return { shape: g.shape, dtype: g.dtype, data: null, stats: computeStats(g.data.values, bins) };
              } catch (e) {
                this.host.problem('node statistics', e);
              }
            }
            return g;
          });
          nodes.push({ name: v.name, op: v.op, inputs: v.inputs, outputs });
        },
      });
    } catch (e) {
      // A model whose internals exray does not recognise: the inference still runs, timed only.
      this.host.problem('installing node hooks', e);
      warnings.push(`node hooks could not be installed (${e instanceof Error ? e.message : String(e)}): inputs and outputs only`);
    }
    let out: unknown;
    try {
      out = orig.apply(model, args);
    } catch (e) {
      hook?.uninstall();
      this.releaseAll(inputs, nodes.flatMap((n) => n.outputs));
      throw e;
    }
    const finish = (result: unknown, wallMs: number): void => {
      hook?.uninstall();
      hook = null;
      const outNames = namesOf(result, declaredOutputs(model), 'output');
      const outputs = tensorsOf(result).map((t) => this.grab(t, sync, true));
      const modelRef = model;
      const timing = this.host.timingOf(model);
      const build = async (): Promise<CapturedRun> => {
        try {
          const inputRecords: NamedTensor[] = [];
          const blobs = new Map<string, BlobData>();
          for (let k = 0; k < inputs.length; k++) {
            const rec = await this.record(inputs[k]!, `input:${inNames[k] ?? k}`, 0, true, bins, blobs);
            inputRecords.push({ name: inNames[k] ?? `input_${k}`, ...rec });
          }
          const nodeRecords: NodeRecord[] = [];
          for (let i = 0; i < nodes.length; i++) {
            const n = nodes[i]!;
            const outs: TensorRecord[] = [];
            for (let k = 0; k < n.outputs.length; k++) {
              const o = n.outputs[k]!;
              if (o.stats) outs.push({ shape: o.shape, dtype: toDType(o.dtype), stats: o.stats });
              else outs.push(await this.record(o, n.name, k, keepNodes, bins, blobs));
            }
            nodeRecords.push({ index: i, name: n.name, op: n.op, kernels: [], outputs: outs, inputs: n.inputs });
          }
          const outRecords: NamedTensor[] = [];
          for (let k = 0; k < outputs.length; k++) {
            const name = outNames[k] ?? `output_${k}`;
            outRecords.push({ name, ...(await this.record(outputs[k]!, `output:${name}`, 0, true, bins, blobs)) });
          }
          const declared = declaredInputs(modelRef);
          return {
            model: modelRef,
            format: isGraphModel(modelRef) ? 'tfjs-graph' : 'tfjs-layers',
            runtime: { name: 'tfjs', version: this.tf.version_core ?? this.tf.version?.['tfjs-core'] ?? 'unknown', backend },
            environment: collectEnvironmentOf(this.tf),
            inputs: inputRecords,
            declaredInputs: ioSpecs(modelRef.inputs as IOInfo[], declared.length === inputRecords.length ? declared : inputRecords.map((r) => r.name)),
            declaredOutputs: ioSpecs(modelRef.outputs as IOInfo[], outRecords.length === (modelRef.outputs as IOInfo[]).length ? outRecords.map((r) => r.name) : declaredOutputs(modelRef)),
            nodeCount: safeNodeCount(modelRef),
            nodes: nodeRecords,
            outputs: outRecords,
            blobs,
            timing,
            capturedMs: wallMs,
            warnings: [
              ...warnings,
              'traced by the exray agent inside the app: node outputs read during the app\'s own inference; no kernel timing for this inference (timing: the app\'s timing-only inferences)',
            ],
          };
        } finally {
          release();
        }
      };
      const release = (): void => this.releaseAll(inputs, nodes.flatMap((n) => n.outputs), outputs);
      this.host.captured(model, { build, release });
    };
    if (out instanceof Promise) {
      return out.then(
        (v: unknown) => {
          finish(v, this.host.now() - t0);
          return v;
        },
        (e: unknown) => {
          hook?.uninstall();
          this.releaseAll(inputs, nodes.flatMap((n) => n.outputs));
          throw e;
        },
      );
    }
    finish(out, this.host.now() - t0);
    return out;
  }

  /** A tensor record from what was grabbed; its blob (when kept) goes to `blobs`. */
  private async record(g: PendingTensor, node: string, k: number, keep: boolean, bins: number, blobs: Map<string, BlobData>): Promise<TensorRecord> {
    const rec: TensorRecord = { shape: g.shape, dtype: toDType(g.dtype) };
    if (!g.data) return rec;
    let values: ArrayLike<number>;
    try {
      values = 'values' in g.data ? g.data.values : ((await g.data.clone.data()) as ArrayLike<number>);
    } catch (e) {
      this.host.problem('reading back a tensor', e);
      return rec;
    }
    const data = blobOf(values, g.dtype);
    rec.stats = computeStats(data, bins);
    if (keep) {
      const id = blobIdFor(node, k);
      rec.blob = { id, encoding: data instanceof Int32Array ? 'int32' : 'float32', length: data.length };
      blobs.set(id, data);
    }
    return rec;
  }

  private releaseAll(...groups: PendingTensor[][]): void {
    const clones: Tensor[] = [];
    for (const g of groups) for (const p of g) if (p.data && 'clone' in p.data) clones.push(p.data.clone);
    try {
      this.tf.dispose(clones);
    } catch (e) {
      this.host.problem('releasing clones', e);
    }
    for (const g of groups) for (const p of g) p.data = null;
  }
}

function safeNodeCount(model: TfjsModel): number {
  try {
    return declaredNodeCount(model);
  } catch {
    return 0;
  }
}
