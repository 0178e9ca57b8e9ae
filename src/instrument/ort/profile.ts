/**
 * onnxruntime's session profiler output (Chrome-trace JSON) → per-kernel times, mapped back to model
 * nodes. Pure.
 *
 * The profile holds every run since the session was created; exray takes the node events inside the
 * last `model_run` event (the profiled run). A node event is named `<ORT node name>_kernel_time` and
 * carries `args.op_name` (the kernel's op, after graph optimisation: `FusedConv`, `QuickGelu`, …),
 * `args.node_index`, `args.provider` and the input / output shapes.
 *
 * Mapping an ORT node back to a model node, first rule that applies:
 *   1. its name is the (unique) name of a model node, possibly with the `_token_<n>` suffix ORT gives a
 *      node it re-created (the WebGPU EP's NHWC layout transform);
 *   2. it is a fused node, named `<first fused node>/<Transformer>/` (e.g. `p2o.Mul.191/LayerNormFusion/`,
 *      `…/_token_3` when the name was taken): it is attributed to that first node;
 *   3. it is named after a model node's output value, possibly with a suffix ORT adds when it rewrites
 *      the node (onnxruntime-node's NCHWc layout transformer: `<value>_nchwc`). The transformer also fuses
 *      a Conv with the BatchNormalization / activation after it and names the result after the *last*
 *      value: the kernel goes to the nearest node up that chain (first inputs, at most 4 steps) whose op
 *      is the kernel's op (the Conv, as rule 2 gives a fusion to its first node), else to the value's node.
 *      On float16 models the CPU EP runs unsupported ops in float32 between Casts it inserts, named
 *      `InsertedPrecisionFreeCast_<value>` (`FusedBack_<value>` once merged back): the prefix is dropped,
 *      so a Conv named `InsertedPrecisionFreeCast_relu_0.tmp_0_nchwc` is the Conv behind `relu_0.tmp_0`,
 *      and an inserted Cast goes to the node whose output (or, on a graph input, nothing) it converts;
 *   4. its `node_index` is the ORT index of a model node of the same op (unnamed model nodes);
 *   5. otherwise it belongs to no model node (layout reorders, copies ORT inserted): node null.
 */
import type { OnnxNode } from '../../onnx/model.ts';
import type { Clock } from '../../trace/types.ts';

export interface RawKernel {
  /** The clock of `ms` when it is not the profiler's own (a WebGPU profiler falling back to CPU-side times). */
  clock?: Clock;
  /** ORT's node name (the event name without `_kernel_time`). */
  ortName: string;
  /** Kernel op after graph optimisation. */
  op: string;
  nodeIndex: number | null;
  provider: string;
  /** Start, microseconds on the profiler's clock (for ordering). */
  startUs: number;
  ms: number;
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
}

interface ChromeEvent {
  cat?: unknown;
  name?: unknown;
  ph?: unknown;
  ts?: unknown;
  dur?: unknown;
  args?: Record<string, unknown>;
}

/** `[{"float":[1,3,48,320]}, …]` → shapes. */
function shapesOf(v: unknown): (number[] | null)[] {
  if (!Array.isArray(v)) return [];
  return v.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return null;
    const dims = Object.values(entry as Record<string, unknown>)[0];
    return Array.isArray(dims) && dims.every((d) => typeof d === 'number') ? (dims as number[]) : null;
  });
}

export class ProfileParseError extends Error {
  override name = 'ProfileParseError';
}

/** `inputs[0] = {1,48,192,3} inputs[1] = {3,3,3,2} outputs[0] = {1,24,96,2} ` → shapes. */
function apiShapes(v: unknown, which: 'inputs' | 'outputs'): number[][] {
  if (typeof v !== 'string') return [];
  const out: number[][] = [];
  for (const m of v.matchAll(new RegExp(`${which}\\[(\\d+)\\] = \\{([^}]*)\\}`, 'g'))) {
    out[Number(m[1])] = m[2]!.trim() === '' ? [] : m[2]!.split(',').map(Number);
  }
  return Array.from(out, (s) => s ?? []);
}

/**
 * Parse the profiler's JSON text. Throws ProfileParseError when it is not a Chrome-trace event array.
 * Returns the kernel events of the last `model_run`, in start order:
 * - `node`: the `*_kernel_time` events (cat `Node`): time on the host, per ORT node;
 * - `gpu`: the `Api` events onnxruntime-web's native WebGPU EP adds from GPU timestamp queries, one per
 *   GPU program, named `<ORT node>&<op>&<program>`, with the shapes as text.
 */
export function parseOrtProfile(text: string, which: 'node' | 'gpu' = 'node'): RawKernel[] {
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch (e) {
    throw new ProfileParseError(`profile is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(events)) throw new ProfileParseError('profile is not an array of trace events');
  const list = events as ChromeEvent[];
  const runs = list.filter((e) => e.cat === 'Session' && e.name === 'model_run' && typeof e.ts === 'number' && typeof e.dur === 'number');
  const last = runs.reduce<ChromeEvent | undefined>((a, e) => (a === undefined || (e.ts as number) > (a.ts as number) ? e : a), undefined);
  const from = last ? (last.ts as number) : -Infinity;
  const to = last ? (last.ts as number) + (last.dur as number) : Infinity;
  const out: RawKernel[] = [];
  if (which === 'gpu') {
    for (const e of list) {
      if (e.cat !== 'Api' || typeof e.name !== 'string' || typeof e.ts !== 'number' || typeof e.dur !== 'number' || e.ts < from || e.ts > to) continue;
      const [ortName = '', op = 'unknown', program] = e.name.split('&');
      out.push({
        ortName,
        op: program && program !== op ? `${op}:${program}` : op,
        nodeIndex: null,
        provider: 'WebGpuExecutionProvider',
        startUs: e.ts,
        ms: e.dur / 1000,
        inputShapes: apiShapes(e.args?.['shapes'], 'inputs'),
        outputShapes: apiShapes(e.args?.['shapes'], 'outputs'),
      });
    }
    return out.sort((a, b) => a.startUs - b.startUs);
  }
  for (const e of list) {
    if (e.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith('_kernel_time')) continue;
    if (typeof e.ts !== 'number' || typeof e.dur !== 'number' || e.ts < from || e.ts > to) continue;
    const args = e.args ?? {};
    const idx = Number(args['node_index']);
    out.push({
      ortName: e.name.slice(0, -'_kernel_time'.length),
      op: typeof args['op_name'] === 'string' ? args['op_name'] : 'unknown',
      nodeIndex: Number.isInteger(idx) && args['node_index'] !== undefined ? idx : null,
      provider: typeof args['provider'] === 'string' ? args['provider'] : '',
      startUs: e.ts,
      ms: e.dur / 1000,
      inputShapes: shapesOf(args['input_type_shape']),
      outputShapes: shapesOf(args['output_type_shape']).map((s) => s ?? []),
    });
  }
  return out.sort((a, b) => a.startUs - b.startUs);
}

/** `<first node>/<Transformer>/` (optionally `_token_<n>`), or `<first node>/<Something>Fusion`. */
const FUSED_NAME = /^(.+)\/(?:[A-Za-z0-9_]+\/|[A-Za-z0-9_]*Fusion)(?:_token_\d+)?$/;
const REWRITTEN_SUFFIX = /_nchwc(?:_token_\d+)?$/;
/** Node and value names onnxruntime's float16 → float32 cast insertion gives (insert_cast_transformer.cc). */
const INSERTED_PREFIX = /^(?:InsertedPrecisionFreeCast_|FusedBack_)/;
/** ORT's GenerateNodeName suffix for a node it re-created (layout transforms: `p2o.Conv.0_token_1`). */
const TOKEN_SUFFIX = /_token_\d+$/;

/** The model node (trace name) each ORT node belongs to, or null. */
export function attributeKernels(kernels: readonly { ortName: string; op: string; nodeIndex: number | null }[], nodes: readonly OnnxNode[]): (string | null)[] {
  const byName = new Map<string, OnnxNode>();
  const shared = new Set<string>();
  for (const n of nodes) {
    if (!n.protoName) continue;
    if (byName.has(n.protoName)) shared.add(n.protoName);
    byName.set(n.protoName, n);
  }
  for (const s of shared) byName.delete(s);
  const byIndex = new Map(nodes.map((n) => [n.ortIndex, n]));
  const byValue = new Map<string, OnnxNode>();
  for (const n of nodes) for (const v of n.outputs) byValue.set(v, n);
  return kernels.map((k) => {
    const direct = byName.get(k.ortName) ?? byName.get(k.ortName.replace(TOKEN_SUFFIX, ''));
    if (direct) return direct.name;
    const fused = FUSED_NAME.exec(k.ortName);
    if (fused) {
      const base = byName.get(fused[1]!);
      if (base) return base.name;
    }
    const bare = k.ortName.replace(INSERTED_PREFIX, '');
    const value = byValue.get(bare) ?? byValue.get(bare.replace(REWRITTEN_SUFFIX, '')) ?? byValue.get(bare.replace(TOKEN_SUFFIX, ''));
    if (value) {
      let at: OnnxNode | undefined = value;
      for (let step = 0; at && at.op !== k.op && step < 4; step++) at = byValue.get(at.inputs[0] ?? '');
      return (at && at.op === k.op ? at : value).name;
    }
    if (k.nodeIndex !== null) {
      const n = byIndex.get(k.nodeIndex);
      if (n && n.op === k.op) return n.name;
    }
    return null;
  });
}

/**
 * For kernels that belong to no node of the main graph: the control-flow node (If / Loop / Scan) whose
 * subgraph holds the ORT node that ran them, else null. Their time is part of that node's own kernel
 * (ORT times a control-flow node around its subgraph), so they are not added to it.
 */
export function subgraphOwners(kernels: readonly { ortName: string }[], nodes: readonly OnnxNode[]): (string | null)[] {
  const owner = new Map<string, string>();
  for (const n of nodes) for (const inner of n.subgraphNodeNames) owner.set(inner, n.name);
  return kernels.map((k) => {
    const direct = owner.get(k.ortName);
    if (direct) return direct;
    const fused = FUSED_NAME.exec(k.ortName);
    return (fused && owner.get(fused[1]!)) ?? null;
  });
}
