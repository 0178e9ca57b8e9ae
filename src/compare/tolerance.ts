/**
 * Tolerances and per-tensor verdicts.
 *
 * Pure: no DOM, no Node. The defaults and the reasoning behind them are in docs/compare.md
 * ("Tolerances").
 */

import type { DType } from '../trace/types.ts';
import type { TensorMetrics } from './metrics.ts';

/** Per-tensor verdict. */
export type Verdict = 'ok' | 'diverged' | 'missing' | 'shape-mismatch' | 'no-data';

/** The precision the edge run is expected to have; selects the default thresholds. */
export type PrecisionPreset = 'float32' | 'float16' | 'int8' | 'exact';

export const PRECISION_PRESETS: readonly PrecisionPreset[] = ['float32', 'float16', 'int8', 'exact'];

/**
 * Thresholds for one tensor. `undefined` (or absent) inherits from the less specific level; `null`
 * switches the check off.
 */
export interface Thresholds {
  /** Maximum normalized RMSE (TensorMetrics.nrmse). */
  nrmse?: number | null;
  /** Minimum cosine similarity. */
  cosine?: number | null;
  /** Maximum absolute difference. */
  maxAbs?: number | null;
  /** Minimum SQNR in dB. */
  sqnrDb?: number | null;
  /**
   * Absolute floor: a tensor whose max |a-b| is ≤ atol is ok whatever its nrmse / cosine (protects
   * near-zero tensors, where normalised metrics blow up on noise). Never overrides a NaN/Inf mismatch.
   */
  atol?: number | null;
}

/**
 * What a caller passes as `tolerance`: a preset plus global thresholds, refined per declared dtype,
 * per op type and per node. Resolution, most specific last:
 * preset defaults → preset per-dtype defaults → global fields → perDType[dtype] → perOp[op] →
 * perNode[name] → perNode[`name:outputIndex`].
 */
export interface ToleranceSpec extends Thresholds {
  /** Default `float32`. */
  preset?: PrecisionPreset;
  /** Keyed by the edge tensor's declared dtype. */
  perDType?: Partial<Record<DType, Thresholds>>;
  /** Keyed by op type exactly as in NodeRecord.op (case-sensitive), e.g. `Softmax`. */
  perOp?: Record<string, Thresholds>;
  /** Keyed by node name (all outputs) or `name:outputIndex` (one output). Also matches input / output tensor names. */
  perNode?: Record<string, Thresholds>;
}

/** Thresholds after resolution: every field present; null = not checked. */
export interface ResolvedTolerance {
  nrmse: number | null;
  cosine: number | null;
  maxAbs: number | null;
  sqnrDb: number | null;
  atol: number | null;
}

interface PresetDefinition {
  base: ResolvedTolerance;
  perDType: Partial<Record<DType, Thresholds>>;
}

/** Integer tensors (shapes, indices, argmax, casts) must match exactly across float32 backends. */
const EXACT_INTEGERS: Partial<Record<DType, Thresholds>> = {
  int32: { maxAbs: 0, atol: 0 },
  int64: { maxAbs: 0, atol: 0 },
  bool: { maxAbs: 0, atol: 0 },
};

/**
 * Default thresholds per preset. Rationale (docs/compare.md): float32 cross-backend noise (cpu vs wasm
 * vs webgl/webgpu with float32 textures) is ~1e-7…1e-5 nrmse; half-float textures start at ~1e-4
 * and grow past 1e-3 within a few layers; real bugs (wrong weights, wrong normalisation, wrong layout)
 * are ≥ 1e-2.
 */
export const PRESETS: Readonly<Record<PrecisionPreset, PresetDefinition>> = {
  float32: {
    base: { nrmse: 1e-3, cosine: 0.9999, maxAbs: null, sqnrDb: null, atol: 1e-6 },
    perDType: EXACT_INTEGERS,
  },
  float16: {
    base: { nrmse: 2e-2, cosine: 0.99, maxAbs: null, sqnrDb: null, atol: 1e-4 },
    perDType: EXACT_INTEGERS,
  },
  int8: {
    base: { nrmse: 5e-2, cosine: 0.98, maxAbs: null, sqnrDb: null, atol: 1e-3 },
    perDType: {},
  },
  exact: {
    base: { nrmse: 0, cosine: null, maxAbs: 0, sqnrDb: null, atol: 0 },
    perDType: {},
  },
};

/** What a tensor is, for tolerance lookup. */
export interface ToleranceTarget {
  name: string;
  op: string;
  outputIndex: number;
  dtype: DType | null;
}

const FIELDS = ['nrmse', 'cosine', 'maxAbs', 'sqnrDb', 'atol'] as const;

function apply(into: ResolvedTolerance, t: Thresholds | undefined): void {
  if (!t) return;
  for (const f of FIELDS) {
    const v = t[f];
    if (v !== undefined) into[f] = v;
  }
}

/** Resolves the thresholds that apply to one tensor. The spec is assumed valid (see validateToleranceSpec). */
export function resolveTolerance(spec: ToleranceSpec | undefined, target: ToleranceTarget): ResolvedTolerance {
  const preset = PRESETS[spec?.preset ?? 'float32'];
  const out: ResolvedTolerance = { ...preset.base };
  if (target.dtype) apply(out, preset.perDType[target.dtype]);
  if (!spec) return out;
  apply(out, spec);
  if (target.dtype) apply(out, spec.perDType?.[target.dtype]);
  if (spec.perOp && Object.hasOwn(spec.perOp, target.op)) apply(out, spec.perOp[target.op]);
  if (spec.perNode) {
    if (Object.hasOwn(spec.perNode, target.name)) apply(out, spec.perNode[target.name]);
    const k = `${target.name}:${target.outputIndex}`;
    if (Object.hasOwn(spec.perNode, k)) apply(out, spec.perNode[k]);
  }
  return out;
}

/** The global thresholds of a spec (preset + global fields), as reported in Comparison.tolerance. */
export function globalTolerance(spec: ToleranceSpec | undefined): ResolvedTolerance {
  const out: ResolvedTolerance = { ...PRESETS[spec?.preset ?? 'float32'].base };
  apply(out, spec);
  return out;
}

function checkThresholds(t: unknown, where: string, errors: string[]): void {
  if (t === undefined) return;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) {
    errors.push(`${where}: expected an object`);
    return;
  }
  const rec = t as Record<string, unknown>;
  for (const f of FIELDS) {
    const v = rec[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || Number.isNaN(v)) {
      errors.push(`${where}.${f}: expected a number or null, got ${JSON.stringify(v)}`);
      continue;
    }
    if (f === 'cosine' && (v < -1 || v > 1)) errors.push(`${where}.cosine: must be in [-1, 1], got ${v}`);
    if ((f === 'nrmse' || f === 'maxAbs' || f === 'atol') && v < 0) errors.push(`${where}.${f}: must be ≥ 0, got ${v}`);
  }
}

/**
 * Validates a tolerance spec coming from outside (CLI flags, a JSON file, the viewer).
 * @throws TypeError listing every problem.
 */
export function validateToleranceSpec(spec: unknown): asserts spec is ToleranceSpec | undefined {
  if (spec === undefined) return;
  const errors: string[] = [];
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new TypeError('tolerance: expected an object');
  }
  const s = spec as Record<string, unknown>;
  if (s.preset !== undefined && !PRECISION_PRESETS.includes(s.preset as PrecisionPreset)) {
    errors.push(`tolerance.preset: expected one of ${PRECISION_PRESETS.join(', ')}, got ${JSON.stringify(s.preset)}`);
  }
  checkThresholds(s, 'tolerance', errors);
  for (const group of ['perDType', 'perOp', 'perNode'] as const) {
    const g = s[group];
    if (g === undefined) continue;
    if (typeof g !== 'object' || g === null || Array.isArray(g)) {
      errors.push(`tolerance.${group}: expected an object`);
      continue;
    }
    for (const [k, v] of Object.entries(g)) checkThresholds(v, `tolerance.${group}[${JSON.stringify(k)}]`, errors);
  }
  if (errors.length > 0) throw new TypeError(errors.join('; '));
}

/** A verdict with the reasons behind it (empty for a plain `ok`). */
export interface Judgement {
  verdict: 'ok' | 'diverged';
  reasons: string[];
}

/** Short number format for reasons and tables: 3 significant digits. */
export function fmt(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  const ax = Math.abs(x);
  if (ax >= 1e-3 && ax < 1e4) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

/**
 * Judges full metrics against thresholds. Order: NaN/Inf mismatches always diverge; then the absolute
 * floor (`atol`) passes the tensor; then every enabled threshold is checked and each failure is a reason.
 */
export function judgeMetrics(m: TensorMetrics, tol: ResolvedTolerance): Judgement {
  const reasons: string[] = [];
  if (m.nanMismatch > 0) {
    reasons.push(`${m.nanMismatch} NaN mismatch${m.nanMismatch === 1 ? '' : 'es'} (first at element ${m.firstMismatchIndex})`);
  }
  if (m.infMismatch > 0) {
    reasons.push(`${m.infMismatch} Inf mismatch${m.infMismatch === 1 ? '' : 'es'}${m.nanMismatch > 0 ? '' : ` (first at element ${m.firstMismatchIndex})`}`);
  }
  if (reasons.length > 0) return { verdict: 'diverged', reasons };
  if (tol.atol !== null && m.maxAbs <= tol.atol) return { verdict: 'ok', reasons };
  if (tol.nrmse !== null && m.nrmse > tol.nrmse) reasons.push(`nrmse ${fmt(m.nrmse)} > ${fmt(tol.nrmse)}`);
  if (tol.cosine !== null && m.cosine < tol.cosine) reasons.push(`cosine ${m.cosine.toFixed(6)} < ${tol.cosine}`);
  if (tol.maxAbs !== null && m.maxAbs > tol.maxAbs) reasons.push(`maxAbs ${fmt(m.maxAbs)} > ${fmt(tol.maxAbs)}`);
  if (tol.sqnrDb !== null) {
    const s = m.sqnrDb ?? (m.identical ? Infinity : -Infinity);
    if (s < tol.sqnrDb) reasons.push(`sqnr ${Number.isFinite(s) ? `${s.toFixed(1)} dB` : '-inf'} < ${tol.sqnrDb} dB`);
  }
  return { verdict: reasons.length > 0 ? 'diverged' : 'ok', reasons };
}
