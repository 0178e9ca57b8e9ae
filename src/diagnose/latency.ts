/**
 * Kernel latency guidance: one model across backends (several traces) and across runs of the same
 * backend. Per node: time on each backend (median over runs), ratio to its fastest backend, spread
 * across runs; the slowest nodes per backend; kernels that fell back to the CPU or forced a GPU→CPU
 * read-back where the trace shows it; short reasons where one is known. Pure: a report section the
 * viewer shows as a panel and `exray latency` prints.
 */
import type { Clock, Trace } from '../trace/types.ts';
import { median } from './fit.ts';
import { fmt } from './node-evidence.ts';

export interface BackendLatency {
  /** Grouping key: the trace label, else backend (+ ` f16`) and where it ran. */
  key: string;
  runtime: string;
  backend: string;
  /** Traces (runs) grouped under this key. */
  runs: number;
  /** Median whole-inference time over the runs (each trace's own median), ms. */
  medianMs: number | null;
  /** Median of the cold first runs, ms. */
  firstRunMs: number | null;
  /** Sum of per-node kernel times (median over runs), ms. */
  kernelMs: number;
  clock: Clock | 'mixed' | 'none';
}

export interface NodeLatency {
  node: string;
  op: string;
  /** Median kernel ms per backend key (null: not run / not timed there). */
  ms: Record<string, number | null>;
  /** Backend key with the smallest time. */
  fastest: string | null;
  /** ms / fastest ms per backend key. */
  ratio: Record<string, number | null>;
  /** Coefficient of variation across runs per backend key (null with one run). */
  spread: Record<string, number | null>;
  reasons: string[];
}

export interface KernelFlag {
  backend: string;
  node: string | null;
  kernel: string;
  kind: 'cpu-fallback' | 'readback' | 'untimed';
  reason: string;
}

export interface LatencyReport {
  model: string;
  backends: BackendLatency[];
  /** Every node, slowest first (by its largest time on any backend). */
  nodes: NodeLatency[];
  slowest: { backend: string; nodes: { node: string; op: string; ms: number; share: number }[] }[];
  flags: KernelFlag[];
  notes: string[];
}

export interface LatencyOptions {
  /** Slowest nodes listed per backend (default 10). */
  top?: number;
}

/** Kernels TF.js GPU backends run on the CPU, reading their inputs back from the GPU (tfjs-backend-webgl 4.22). */
const READBACK_KERNELS: Record<string, string> = {
  NonMaxSuppressionV3: 'runs on the CPU: boxes and scores are read back from the GPU',
  NonMaxSuppressionV4: 'runs on the CPU: boxes and scores are read back from the GPU',
  NonMaxSuppressionV5: 'runs on the CPU: boxes and scores are read back from the GPU',
  TopK: 'runs on the CPU when the last dimension is under 100 000 (TOPK_LAST_DIM_CPU_HANDOFF_SIZE_THRESHOLD) or k > 128: GPU read-back',
  Where: 'the output size depends on the data: read back to the CPU',
  Unique: 'CPU-only kernel: read-back',
  Bincount: 'CPU-only kernel: read-back',
  DenseBincount: 'CPU-only kernel: read-back',
  SparseToDense: 'CPU-only kernel: read-back',
  SparseReshape: 'CPU-only kernel: read-back',
  SparseSegmentMean: 'CPU-only kernel: read-back',
  SparseSegmentSum: 'CPU-only kernel: read-back',
  SparseFillEmptyRows: 'CPU-only kernel: read-back',
  RaggedGather: 'CPU-only kernel: read-back',
  RaggedRange: 'CPU-only kernel: read-back',
  RaggedTensorToTensor: 'CPU-only kernel: read-back',
  StringNGrams: 'CPU-only kernel: read-back',
  StringSplit: 'CPU-only kernel: read-back',
  StringToHashBucketFast: 'CPU-only kernel: read-back',
  StaticRegexReplace: 'CPU-only kernel: read-back',
};

/** Kernels a TF.js GPU backend computes on the CPU when every input is small and still on the CPU (WEBGL_CPU_FORWARD). */
const CPU_FORWARD_KERNELS = new Set([
  'Abs', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Cast', 'Ceil', 'Floor', 'FloorDiv', 'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less',
  'LessEqual', 'LogicalAnd', 'Exp', 'Expm1', 'Log', 'Maximum', 'Minimum', 'Neg', 'Prod', 'Rsqrt', 'Sigmoid', 'Sqrt', 'SquaredDifference',
  'Slice', 'StridedSlice', 'Transpose', 'GatherV2', 'GatherNd', 'Max', 'Concat', 'TopK', 'BitwiseAnd', 'Range', 'Pack', 'Reshape',
]);
/** CPU_HANDOFF_SIZE_THRESHOLD. */
const CPU_FORWARD_MAX_ELEMENTS = 128;

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);

/** Known reasons a node is slow on a backend. */
function knownReason(op: string, backend: string, ratio: number | null, outElements: number | null): string | null {
  const o = op.toLowerCase();
  if (backend === 'cpu' && ratio !== null && ratio >= 3 && /conv|matmul|dense|depthwise/.test(o)) {
    return 'the plain-JS cpu backend has no SIMD or threads; wasm (XNNPACK) or a GPU backend runs convolutions and matmuls several times faster';
  }
  if (backend === 'webgl' && /depthwise/.test(o) && ratio !== null && ratio >= 2) {
    return 'depthwise convolution on WebGL is memory-bound: little arithmetic per texture fetch';
  }
  if (GPU_BACKENDS.has(backend) && ratio !== null && ratio >= 3 && outElements !== null && outElements <= 4096) {
    return 'small tensor on a GPU backend: dispatch and shader overhead dominate the arithmetic';
  }
  if (GPU_BACKENDS.has(backend) && /resize|pad|concat|slice|transpose|reshape/.test(o) && ratio !== null && ratio >= 3) {
    return 'data movement op on a GPU backend: a full texture pass for little arithmetic';
  }
  return null;
}

function isHalf(t: Trace): boolean {
  const e = t.header.environment;
  return e.floatPrecision === 16 || e.flags['WEBGL_FORCE_F16_TEXTURES'] === true;
}

/** Grouping key of a trace: its label, else backend, half-float and where it ran. */
export function backendKey(t: Trace): string {
  if (t.header.label && t.header.label !== 'reference') return t.header.label;
  const rt = t.header.runtime.name === 'tfjs' ? '' : `${t.header.runtime.name} `;
  return `${rt}${t.header.runtime.backend}${isHalf(t) ? ' f16' : ''} (${t.header.environment.kind})`;
}

function nodeMs(t: Trace): Map<string, { op: string; ms: number | null; outElements: number | null }> {
  const m = new Map<string, { op: string; ms: number | null; outElements: number | null }>();
  for (const n of t.header.nodes) {
    let sum = 0;
    let timed = false;
    for (const k of n.kernels) {
      const ms = t.header.kernels[k]?.ms;
      if (typeof ms === 'number') {
        sum += ms;
        timed = true;
      }
    }
    const shape = n.outputs[0]?.shape;
    m.set(n.name, { op: n.op, ms: timed ? sum : n.kernels.length === 0 ? 0 : null, outElements: shape ? shape.reduce((a, b) => a * b, 1) : null });
  }
  return m;
}

export function latencyReport(traces: readonly Trace[], options: LatencyOptions = {}): LatencyReport {
  const top = options.top ?? 10;
  const notes: string[] = [];
  if (traces.length === 0) return { model: '', backends: [], nodes: [], slowest: [], flags: [], notes: ['no traces'] };
  const model = traces[0]!.header.model;
  if (traces.some((t) => t.header.model.sha256 !== model.sha256)) notes.push('the traces ran different model files (sha256 differs): nodes are matched by name');
  const groups = new Map<string, Trace[]>();
  for (const t of traces) {
    const k = backendKey(t);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  const keys = [...groups.keys()];
  const perKey = new Map<string, Map<string, { op: string; ms: number | null; outElements: number | null }>[]>();
  for (const [k, ts] of groups) perKey.set(k, ts.map(nodeMs));

  // Nodes in the first trace's execution order, then any others.
  const names: string[] = [];
  const seen = new Set<string>();
  for (const t of traces) for (const n of t.header.nodes) if (!seen.has(n.name)) {
    seen.add(n.name);
    names.push(n.name);
  }

  const backends: BackendLatency[] = [];
  const flags: KernelFlag[] = [];
  const nodes: NodeLatency[] = names.map((name) => {
    const ms: Record<string, number | null> = {};
    const spread: Record<string, number | null> = {};
    let op = '';
    let outElements: number | null = null;
    for (const k of keys) {
      const vals = perKey.get(k)!.map((m) => m.get(name)).filter((x) => x !== undefined);
      if (vals[0]) {
        op ||= vals[0].op;
        outElements ??= vals[0].outElements;
      }
      const timed = vals.map((v) => v.ms).filter((v): v is number => v !== null);
      ms[k] = timed.length ? median(timed) : null;
      if (timed.length >= 2) {
        const mean = timed.reduce((a, b) => a + b, 0) / timed.length;
        const sd = Math.sqrt(timed.reduce((a, b) => a + (b - mean) ** 2, 0) / timed.length);
        spread[k] = mean > 0 ? sd / mean : 0;
      } else spread[k] = null;
    }
    const timedKeys = keys.filter((k) => ms[k] !== null && ms[k]! > 0);
    const fastest = timedKeys.length ? timedKeys.reduce((a, b) => (ms[b]! < ms[a]! ? b : a)) : null;
    const ratio: Record<string, number | null> = {};
    for (const k of keys) ratio[k] = fastest && ms[k] !== null ? ms[k]! / ms[fastest]! : null;
    const reasons: string[] = [];
    for (const k of keys) {
      const backend = groups.get(k)![0]!.header.runtime.backend;
      const r = knownReason(op, backend, ratio[k] ?? null, outElements);
      if (r && !reasons.includes(`${k}: ${r}`) && (ratio[k] ?? 0) > 1) reasons.push(`${k}: ${r}`);
      if ((spread[k] ?? 0) > 0.3 && (ms[k] ?? 0) > 0.05) reasons.push(`${k}: unstable across runs (cv ${Math.round((spread[k] ?? 0) * 100)}%)`);
    }
    return { node: name, op, ms, fastest, ratio, spread, reasons };
  });

  for (const [k, ts] of groups) {
    const t0 = ts[0]!;
    const clocks = new Set(ts.flatMap((t) => t.header.kernels.map((x) => x.clock)));
    const medians = ts.map((t) => t.header.timing?.medianMs).filter((x): x is number => typeof x === 'number');
    const firsts = ts.map((t) => t.header.timing?.firstRunMs).filter((x): x is number => typeof x === 'number');
    const kernelMs = nodes.reduce((a, n) => a + (n.ms[k] ?? 0), 0);
    backends.push({
      key: k,
      runtime: t0.header.runtime.name,
      backend: t0.header.runtime.backend,
      runs: ts.length,
      medianMs: medians.length ? median(medians) : null,
      firstRunMs: firsts.length ? median(firsts) : null,
      kernelMs,
      clock: clocks.size === 0 ? 'none' : clocks.size === 1 ? ([...clocks][0] as Clock) : 'mixed',
    });
    const b = backends[backends.length - 1]!;
    if (b.firstRunMs !== null && b.medianMs !== null && b.medianMs > 0 && b.firstRunMs / b.medianMs >= 3) {
      notes.push(`${k}: the first run took ${fmt(b.firstRunMs / b.medianMs)}× the median (${fmt(b.firstRunMs)} vs ${fmt(b.medianMs)} ms): shader compilation / wasm start-up; warm up before measuring`);
    }
    if (t0.header.kernels.length === 0) notes.push(`${k}: no kernel timing recorded (capture without the timing pass)`);
    // Kernel flags from the first run of the group (same kernels on every run).
    const gpu = GPU_BACKENDS.has(t0.header.runtime.backend);
    // The trace records the flags it ran with: CPU forwarding only happens when it was on (TF.js default).
    const cpuForward = t0.header.environment.flags.WEBGL_CPU_FORWARD !== false;
    const seenFlag = new Set<string>();
    for (const kr of t0.header.kernels) {
      const id = `${kr.node}|${kr.name}`;
      if (seenFlag.has(id)) continue;
      if (gpu && READBACK_KERNELS[kr.name]) {
        seenFlag.add(id);
        flags.push({ backend: k, node: kr.node, kernel: kr.name, kind: 'readback', reason: READBACK_KERNELS[kr.name]! });
      } else if (gpu && cpuForward && t0.header.runtime.backend === 'webgl' && CPU_FORWARD_KERNELS.has(kr.name) && kr.inputShapes.length > 0 && kr.inputShapes.every((s) => s !== null && s.reduce((a, x) => a * x, 1) < CPU_FORWARD_MAX_ELEMENTS)) {
        seenFlag.add(id);
        flags.push({ backend: k, node: kr.node, kernel: kr.name, kind: 'cpu-fallback', reason: `every input under ${CPU_FORWARD_MAX_ELEMENTS} elements: likely computed on the CPU (WEBGL_CPU_FORWARD) when the inputs are not yet on the GPU` });
      } else if (kr.clock === 'wall-with-readback') {
        seenFlag.add(id);
        flags.push({ backend: k, node: kr.node, kernel: kr.name, kind: 'readback', reason: 'timed with a GPU→CPU read-back' });
      } else if (kr.clock === 'unavailable' || kr.ms === null) {
        seenFlag.add(id);
        flags.push({ backend: k, node: kr.node, kernel: kr.name, kind: 'untimed', reason: 'the backend could not time this kernel' });
      }
    }
  }
  for (const f of flags) {
    const n = nodes.find((x) => x.node === f.node);
    if (n && f.kind !== 'untimed') {
      const r = `${f.backend}: ${f.kernel} ${f.reason}`;
      if (!n.reasons.includes(r)) n.reasons.push(r);
    }
  }

  const slowest = keys.map((k) => {
    const total = backends.find((b) => b.key === k)?.kernelMs ?? 0;
    const list = nodes
      .filter((n) => (n.ms[k] ?? 0) > 0)
      .sort((a, b) => (b.ms[k] ?? 0) - (a.ms[k] ?? 0))
      .slice(0, top)
      .map((n) => ({ node: n.node, op: n.op, ms: n.ms[k]!, share: total > 0 ? n.ms[k]! / total : 0 }));
    return { backend: k, nodes: list };
  });
  nodes.sort((a, b) => Math.max(0, ...Object.values(b.ms).map((v) => v ?? 0)) - Math.max(0, ...Object.values(a.ms).map((v) => v ?? 0)));
  if (keys.length === 1) notes.push('one backend only: ratios need traces from several backends');
  const untimed = flags.filter((f) => f.kind === 'untimed').length;
  if (untimed > 0) notes.push(`${untimed} kernels without a time (clock unavailable)`);
  // Different model files are never titled as one: `3 models (a 1234abcd…, b …)`.
  const distinct = [...new Map(traces.map((t) => [t.header.model.sha256, t.header.model])).values()];
  const title = distinct.length === 1 ? model.name : `${distinct.length} different models (${distinct.map((m) => `${m.name} ${m.sha256.slice(0, 8)}…`).join(', ')})`;
  return { model: title, backends, nodes, slowest, flags: flags.filter((f) => f.kind !== 'untimed'), notes };
}

function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

/** The report as text. */
export function formatLatencyReport(r: LatencyReport, options: { rows?: number } = {}): string {
  const rows = options.rows ?? 15;
  const keys = r.backends.map((b) => b.key);
  const lines: string[] = [`Latency of ${r.model} on ${keys.length} backend${keys.length === 1 ? '' : 's'}:`];
  for (const b of r.backends) {
    lines.push(`  ${b.key.padEnd(28)} runs ${String(b.runs).padStart(2)}  median ${ms(b.medianMs).padStart(7)} ms  first ${ms(b.firstRunMs).padStart(7)} ms  kernels ${ms(b.kernelMs).padStart(7)} ms  (${b.clock})`);
  }
  lines.push('');
  lines.push(`Slowest nodes (ms per backend; ×: ratio to the node's fastest backend):`);
  const w = 40;
  lines.push(`  ${'node'.padEnd(w)} ${'op'.padEnd(20)} ${keys.map((k) => k.slice(0, 18).padStart(18)).join(' ')}`);
  for (const n of r.nodes.slice(0, rows)) {
    const name = n.node.length > w ? `…${n.node.slice(-(w - 1))}` : n.node;
    const cells = keys.map((k) => (n.ms[k] === null ? '-' : `${ms(n.ms[k])}${keys.length > 1 && n.ratio[k] !== null ? ` ×${fmt(n.ratio[k])}` : ''}`).padStart(18));
    lines.push(`  ${name.padEnd(w)} ${n.op.slice(0, 20).padEnd(20)} ${cells.join(' ')}`);
    for (const reason of n.reasons) lines.push(`      ${reason}`);
  }
  if (r.flags.length > 0) {
    lines.push('');
    lines.push('CPU fall-backs and read-backs:');
    for (const f of r.flags.slice(0, 20)) lines.push(`  ${f.backend}: ${f.kernel} in ${f.node ?? '(outside nodes)'} — ${f.reason}`);
    if (r.flags.length > 20) lines.push(`  … ${r.flags.length - 20} more`);
  }
  if (r.notes.length > 0) {
    lines.push('');
    for (const n of r.notes) lines.push(`note: ${n}`);
  }
  return lines.join('\n');
}
