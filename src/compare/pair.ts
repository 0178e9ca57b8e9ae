/**
 * One tensor pair judged: values (all metrics), else statistics, else nothing (a record without either
 * is never judged, its shape included), with one-element and near-zero tensors' absolute tolerance
 * scaled to the tensors around them. Used by compareTraces for node outputs, inputs and final outputs.
 *
 * Pure: no DOM, no Node.
 */

import type { BlobData, TensorRecord, TensorStats, Trace } from '../trace/types.ts';
import { elementCount, isShapeMismatch, shapeRelation } from './align.ts';
import { blobStats, tensorMetrics } from './metrics.ts';
import { compareStats, judgeStats } from './stats.ts';
import { fmt, judgeMetrics, type ResolvedTolerance, type Verdict } from './tolerance.ts';
import type { TensorComparison } from './types.ts';

export interface Side {
  trace: Trace;
  what: 'edge' | 'reference';
  /** magnitude() per blob id, for this comparison: each blob is scanned once, not once per use. */
  magnitudes?: Map<string, number>;
}

function blobOf(side: Side, rec: TensorRecord, key: string, warnings: string[]): BlobData | null {
  if (!rec.blob) return null;
  const data = side.trace.blobs.get(rec.blob.id);
  if (!data) {
    warnings.push(`${key}: ${side.what} blob ${rec.blob.id} is referenced but absent`);
    return null;
  }
  if (data.length !== rec.blob.length || data.length !== elementCount(rec.shape)) {
    warnings.push(
      `${key}: ${side.what} blob ${rec.blob.id} has ${data.length} elements (BlobRef.length ${rec.blob.length}, shape [${rec.shape.join(',')}])`,
    );
  }
  return data;
}

/** What measuring a pair needs: the two sides, the pair's key (for warnings) and the shape rule. */
export interface MeasureContext {
  edge: Side;
  ref: Side;
  key: string;
  strictShapes: boolean;
  warnings: string[];
}

export interface PairContext extends MeasureContext {
  tol: ResolvedTolerance;
  /** Largest |value| of the reference tensors around this one (see CompareOptions.scaledAtol); null = no scaling. */
  around: number | null;
  /** `around` comes from the other final outputs, not the graph: scale one-element tensors only. */
  aroundSingleOnly?: boolean;
}

/** A tensor is near zero when its largest |value| is below this fraction of the tensors around it. */
const NEAR_ZERO = 1e-3;

/** Largest finite |value| of a recorded tensor (blob, else stats); null when nothing was recorded. */
export function magnitude(side: Side, rec: TensorRecord): number | null {
  const data = rec.blob ? side.trace.blobs.get(rec.blob.id) : undefined;
  if (data && rec.blob) {
    const known = side.magnitudes?.get(rec.blob.id);
    if (known !== undefined) return known;
    let m = 0;
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i] as number);
      if (a > m && a !== Infinity) m = a;
    }
    side.magnitudes?.set(rec.blob.id, m);
    return m;
  }
  if (rec.stats && Number.isFinite(rec.stats.min) && Number.isFinite(rec.stats.max)) return Math.max(Math.abs(rec.stats.min), Math.abs(rec.stats.max));
  return null;
}

/**
 * The tolerance for a one-element or near-zero tensor: atol raised to nrmse-limit × the largest |value|
 * of the tensors around it. Returns the tolerance unchanged when the tensor is neither, or no scale applies.
 */
function scaledTolerance(tol: ResolvedTolerance, r: TensorRecord, ctx: PairContext): { tol: ResolvedTolerance; note: string | null } {
  if (ctx.around === null || tol.nrmse === null || tol.nrmse === 0) return { tol, note: null };
  const own = magnitude(ctx.ref, r);
  if (own === null) return { tol, note: null };
  const single = elementCount(r.shape) === 1;
  if (!single && (ctx.aroundSingleOnly || !(own < NEAR_ZERO * ctx.around))) return { tol, note: null };
  const scale = Math.max(ctx.around, own);
  const atol = tol.nrmse * scale;
  if (tol.atol !== null && atol <= tol.atol) return { tol, note: null };
  return {
    tol: { ...tol, atol },
    note: `${single ? 'one-element' : 'near-zero'} tensor: atol scaled to ${fmt(atol)} (nrmse limit ${fmt(tol.nrmse)} × max |x| ${fmt(scale)} of the tensors around it)`,
  };
}

export function missing(e: TensorRecord | null, r: TensorRecord | null, reason: string): TensorComparison {
  return {
    verdict: 'missing',
    reasons: [reason],
    edgeShape: e ? e.shape : null,
    refShape: r ? r.shape : null,
    shapeRelation: null,
    edgeDType: e ? e.dtype : null,
    refDType: r ? r.dtype : null,
    metrics: null,
    statsOnly: false,
    stats: null,
    tolerance: null,
  };
}

type Judge = (tol: ResolvedTolerance) => { verdict: Verdict; reasons: string[] };

/**
 * A pair measured (metrics or statistics computed) but not yet judged: `judge` decides its verdict
 * under a tolerance; null when measuring already decided it (no data, shape mismatch, bad stats).
 */
export interface MeasuredPair {
  comparison: TensorComparison;
  judge: Judge | null;
}

/**
 * The measured pair judged under the pair's tolerance, scaled for a one-element or near-zero tensor;
 * the scaling is named in the reasons when it is what made the pair ok.
 */
export function judgePair(m: MeasuredPair, r: TensorRecord, ctx: PairContext): TensorComparison {
  const base = m.comparison;
  const judge = m.judge;
  if (!judge) return base;
  const scaled = scaledTolerance(ctx.tol, r, ctx);
  const j = judge(scaled.tol);
  base.tolerance = scaled.tol;
  base.verdict = j.verdict;
  base.reasons.push(...j.reasons);
  if (scaled.note && j.verdict === 'ok' && judge(ctx.tol).verdict !== 'ok') base.reasons.push(scaled.note);
  return base;
}

/** Compares one tensor pair; both records present. */
export function comparePair(e: TensorRecord, r: TensorRecord, ctx: PairContext): TensorComparison {
  return judgePair(measurePair(e, r, ctx), r, ctx);
}

/**
 * Measures one tensor pair (both records present): every metric in one pass over the values, else
 * the statistics. The reference side's largest |value| is kept for scaledTolerance when the pass saw
 * every value (all finite), so that no second scan of the blob is needed.
 */
export function measurePair(e: TensorRecord, r: TensorRecord, ctx: MeasureContext): MeasuredPair {
  const relation = shapeRelation(e.shape, r.shape);
  const base: TensorComparison = {
    verdict: 'no-data',
    reasons: [],
    edgeShape: e.shape,
    refShape: r.shape,
    shapeRelation: relation,
    edgeDType: e.dtype,
    refDType: r.dtype,
    metrics: null,
    statsOnly: false,
    stats: null,
    tolerance: null,
  };
  const eb = blobOf(ctx.edge, e, ctx.key, ctx.warnings);
  const rb = blobOf(ctx.ref, r, ctx.key, ctx.warnings);
  const shapes = `[${e.shape.join(',')}] vs [${r.shape.join(',')}]`;

  // A record without values or stats (timing capture) carries a shape that may come from profiler
  // metadata, not from a tensor: nothing about it is judged, its shape included.
  if ((!eb && !e.stats) || (!rb && !r.stats)) {
    base.shapeRelation = null;
    const lacking = [!eb && !e.stats ? 'edge' : null, !rb && !r.stats ? 'reference' : null].filter((x) => x !== null);
    const modes = [...new Set(lacking.map((w) => captureOf(w === 'edge' ? ctx.edge : ctx.ref)))].join(' / ');
    base.reasons.push(`values not recorded in ${lacking.length === 2 ? 'either trace' : `the ${lacking[0]} trace`} (${modes} capture): not compared`);
    return { comparison: base, judge: null };
  }

  if (isShapeMismatch(relation, ctx.strictShapes)) {
    base.verdict = 'shape-mismatch';
    if (relation === 'different-count') {
      base.reasons.push(`shape ${shapes}: different element count (${elementCount(e.shape)} vs ${elementCount(r.shape)})`);
    } else if (relation === 'same-count') {
      base.reasons.push(`shape ${shapes}: same element count, different shape (layout or transposition?)`);
    } else {
      base.reasons.push(`shape ${shapes}: equal after squeezing size-1 dims (strictShapes)`);
    }
    // Informational flat metrics when the element counts agree.
    if (eb && rb && eb.length === rb.length) base.metrics = tensorMetrics(eb, rb);
    return { comparison: base, judge: null };
  }
  if (relation === 'squeezable') base.reasons.push(`shape ${shapes}: equal after squeezing size-1 dims`);

  if (eb && rb) {
    if (eb.length !== rb.length) {
      base.reasons.push(`blob lengths differ (${eb.length} vs ${rb.length}) although shapes agree`);
      return { comparison: base, judge: null };
    }
    const m = tensorMetrics(eb, rb);
    base.metrics = m;
    if (m.compared === m.count && r.blob) ctx.ref.magnitudes?.set(r.blob.id, Math.max(Math.abs(m.refMin ?? 0), Math.abs(m.refMax ?? 0)));
    return { comparison: base, judge: (tol) => judgeMetrics(m, tol) };
  }

  const es: TensorStats | null = eb ? blobStats(eb) : (e.stats ?? null);
  const rs: TensorStats | null = rb ? blobStats(rb) : (r.stats ?? null);
  if (es && rs) {
    const d = compareStats(es, rs, eb ? 'blob' : 'stats', rb ? 'blob' : 'stats');
    base.statsOnly = true;
    if (!d) {
      base.reasons.push('stats have non-finite or missing fields');
      return { comparison: base, judge: null };
    }
    base.stats = d;
    return { comparison: base, judge: (tol) => judgeStats(d, tol) };
  }
  base.reasons.push('no tensor data or stats');
  return { comparison: base, judge: null };
}

export function captureOf(side: Side): string {
  return side.trace.header.capture;
}
