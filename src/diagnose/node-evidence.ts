/**
 * What the node-level cause rules look at: the two traces, their comparison and the own/inherited
 * split. Plus the half-float evidence shared by the `float16` and `kernel` rules. Pure.
 */
import type { Comparison } from '../compare/index.ts';
import type { Environment, Trace } from '../trace/types.ts';
import { median } from './fit.ts';
import type { NodeAttribution } from './types.ts';

/** How an edge model stores its weights (from its weightsManifest), when the CLI can see the model. */
export interface WeightStorage {
  /** Count of weights per stored dtype: `float32`, `int32`, `uint8`, `uint16`, `float16`. */
  dtypes: Record<string, number>;
  total: number;
}

export interface NodeEvidence {
  edge: Trace;
  ref: Trace;
  comparison: Comparison;
  attributions: readonly NodeAttribution[];
  inputMatches: boolean | null;
  /** Backend the replays ran on (for wording). */
  referenceBackend?: string;
  edgeWeights?: WeightStorage | null;
}

/** Own errors above this are not float32 cross-backend noise (~1e-7 relative per op). */
export const FLOAT32_OWN_NOISE = 1e-5;
/** A node's own error beyond this is a wrong result on a float32 backend (the float32 compare tolerance). */
export const KERNEL_OWN_NRMSE = 1e-3;
/** …and on a half-float backend (above the float16 compare tolerance of 2e-2). */
export const KERNEL_OWN_NRMSE_HALF = 3e-2;
/** Largest finite float16 value. */
export const HALF_MAX = 65504;

/** Round a number to the nearest float16 value (round half to even); ±Infinity beyond the half range. */
export function roundToHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const s = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  if (ax >= 65520) return s * Number.POSITIVE_INFINITY;
  let e = Math.floor(Math.log2(ax));
  if (2 ** e > ax) e -= 1;
  else if (2 ** (e + 1) <= ax) e += 1;
  if (e < -14) e = -14; // subnormals: fixed step 2^-24
  const step = 2 ** (e - 10);
  const q = ax / step; // exact: step is a power of two
  const f = Math.floor(q);
  const d = q - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return s * r * step;
}

/** Fraction of sampled float values of a trace's node outputs that are exactly float16 values. */
export function halfRepresentableFraction(trace: Trace, maxNodes = 24, perNode = 256): number | null {
  let seen = 0;
  let exact = 0;
  const nodes = trace.header.nodes.filter((n) => n.outputs[0]?.blob?.encoding === 'float32');
  const stride = Math.max(1, Math.floor(nodes.length / maxNodes));
  for (let i = 0; i < nodes.length; i += stride) {
    const id = nodes[i]!.outputs[0]!.blob!.id;
    const data = trace.blobs.get(id);
    if (!data || data.length === 0) continue;
    const step = Math.max(1, Math.floor(data.length / perNode));
    for (let j = 0; j < data.length; j += step) {
      const v = data[j] as number;
      if (!Number.isFinite(v) || v === 0 || Number.isInteger(v)) continue; // uninformative
      seen++;
      if (roundToHalf(v) === v) exact++;
    }
  }
  return seen < 64 ? null : exact / seen;
}

export interface HalfFloatEvidence {
  /** The edge very likely computed in half precision. */
  likely: boolean;
  /** The environment says so (floatPrecision 16, WEBGL_FORCE_F16_TEXTURES, no float32 render targets). */
  fromEnvironment: boolean;
  reasons: string[];
  /** Fraction of the edge's values that are float16 values (null: not enough data). */
  representable: number | null;
}

export function halfFloatEvidence(edge: Trace, ref?: Trace): HalfFloatEvidence {
  const env: Environment = edge.header.environment;
  const reasons: string[] = [];
  if (env.floatPrecision === 16) reasons.push('floatPrecision 16');
  if (env.flags['WEBGL_FORCE_F16_TEXTURES'] === true) reasons.push('WEBGL_FORCE_F16_TEXTURES');
  if (env.webgl && env.webgl.floatTextures === false) reasons.push('no float32 render targets');
  const fromEnvironment = reasons.length > 0;
  const representable = halfRepresentableFraction(edge);
  const refRepresentable = ref ? halfRepresentableFraction(ref) : null;
  const valuesSayHalf = representable !== null && representable > 0.995 && (refRepresentable === null || refRepresentable < 0.9);
  if (valuesSayHalf) reasons.push(`${(representable * 100).toFixed(1)}% of the recorded values are float16 values`);
  return { likely: fromEnvironment || valuesSayHalf, fromEnvironment, reasons, representable };
}

/** Replayed attributions (own error known). */
export function replayed(ev: NodeEvidence): NodeAttribution[] {
  return ev.attributions.filter((a) => a.own !== null);
}

/** The two traces ran models with different weights (both hashes known). */
export function modelsDiffer(ev: NodeEvidence): boolean {
  const a = ev.edge.header.model.sha256;
  const b = ev.ref.header.model.sha256;
  return a !== '' && b !== '' && a !== b;
}

/** The median own error: the "typical" node an outlier is measured against. */
export function typicalOwn(as: readonly NodeAttribution[]): number {
  return median(as.map((a) => a.own ?? 0));
}

export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  return Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? String(Number(x.toPrecision(2))) : x.toExponential(1);
}
