/**
 * The weaker comparison for nodes captured in `stats` mode (summary statistics, no blob).
 *
 * Stats cannot prove two tensors agree, but some deltas prove they do NOT: for any a, b of n elements
 *   |mean(a) − mean(b)| ≤ rmse(a − b)      (Cauchy–Schwarz)
 *   |std(a)  − std(b)|  ≤ rmse(a − b)      (std is a seminorm)
 *   |max(a)  − max(b)|, |min(a) − min(b)| ≤ max|a − b|
 * So max(|Δmean|, |Δstd|) / normalizer is a lower bound on nrmse, and the largest of the four deltas is a
 * lower bound on maxAbs. A stats-only node diverges only when a bound proves a threshold is exceeded;
 * otherwise it is `ok` ("not disproven") and flagged statsOnly. Pure: no DOM, no Node.
 */

import type { TensorStats } from '../trace/types.ts';
import { nrmseNormalizer } from './metrics.ts';
import { fmt, type ResolvedTolerance } from './tolerance.ts';

/** Where a side's statistics came from: recorded by the instrumenter, or computed here from its blob. */
export type StatsSource = 'stats' | 'blob';

/** Deltas of summary statistics, edge minus reference. JSON-safe. */
export interface StatsDelta {
  edgeSource: StatsSource;
  refSource: StatsSource;
  /** edge − ref of each statistic. */
  mean: number;
  std: number;
  min: number;
  max: number;
  nanCount: number;
  infCount: number;
  /** Same rule as TensorMetrics.normalizer, from the stats' min / max. */
  normalizer: number;
  /** max(|Δmean|, |Δstd|) / normalizer ≤ the true nrmse. */
  nrmseLowerBound: number;
  /** max(|Δmean|, |Δstd|, |Δmin|, |Δmax|) ≤ the true maxAbs. */
  maxAbsLowerBound: number;
  /** An upper bound on the true SQNR in dB; null when there is no finite bound (Δmean = Δstd = 0, or the reference is all zeros). */
  sqnrUpperBoundDb: number | null;
}

function finite(s: TensorStats): boolean {
  return [s.mean, s.std, s.min, s.max, s.nanCount, s.infCount].every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** Compares two stats records. Returns null when either has a non-finite or missing field. */
export function compareStats(
  edge: TensorStats,
  ref: TensorStats,
  edgeSource: StatsSource,
  refSource: StatsSource,
): StatsDelta | null {
  if (!finite(edge) || !finite(ref)) return null;
  const dMean = edge.mean - ref.mean;
  const dStd = edge.std - ref.std;
  const dMin = edge.min - ref.min;
  const dMax = edge.max - ref.max;
  const normalizer = nrmseNormalizer(edge.min, edge.max, ref.min, ref.max);
  const rmseLb = Math.max(Math.abs(dMean), Math.abs(dStd));
  const refPower = ref.std * ref.std + ref.mean * ref.mean; // mean of b²
  let sqnrUpperBoundDb: number | null = null;
  if (rmseLb > 0 && refPower > 0) sqnrUpperBoundDb = 10 * Math.log10(refPower / (rmseLb * rmseLb));
  return {
    edgeSource,
    refSource,
    mean: dMean,
    std: dStd,
    min: dMin,
    max: dMax,
    nanCount: edge.nanCount - ref.nanCount,
    infCount: edge.infCount - ref.infCount,
    normalizer,
    nrmseLowerBound: rmseLb / normalizer,
    maxAbsLowerBound: Math.max(rmseLb, Math.abs(dMin), Math.abs(dMax)),
    sqnrUpperBoundDb,
  };
}

/** Verdict from stats deltas: `diverged` only when the deltas prove a threshold is exceeded. */
export function judgeStats(d: StatsDelta, tol: ResolvedTolerance): { verdict: 'ok' | 'diverged'; reasons: string[] } {
  const reasons: string[] = [];
  if (d.nanCount !== 0) reasons.push(`NaN count differs by ${d.nanCount} (edge − ref)`);
  if (d.infCount !== 0) reasons.push(`Inf count differs by ${d.infCount} (edge − ref)`);
  if (reasons.length > 0) return { verdict: 'diverged', reasons };
  // maxAbs ≥ maxAbsLowerBound; if that is within atol, nothing can be proven.
  if (tol.atol !== null && d.maxAbsLowerBound <= tol.atol) return { verdict: 'ok', reasons };
  if (tol.nrmse !== null && d.nrmseLowerBound > tol.nrmse) {
    reasons.push(`nrmse ≥ ${fmt(d.nrmseLowerBound)} > ${fmt(tol.nrmse)} (from Δmean ${fmt(d.mean)}, Δstd ${fmt(d.std)})`);
  }
  if (tol.maxAbs !== null && d.maxAbsLowerBound > tol.maxAbs) {
    reasons.push(`maxAbs ≥ ${fmt(d.maxAbsLowerBound)} > ${fmt(tol.maxAbs)}`);
  }
  if (tol.sqnrDb !== null && d.sqnrUpperBoundDb !== null && d.sqnrUpperBoundDb < tol.sqnrDb) {
    reasons.push(`sqnr ≤ ${d.sqnrUpperBoundDb.toFixed(1)} dB < ${tol.sqnrDb} dB`);
  }
  return { verdict: reasons.length > 0 ? 'diverged' : 'ok', reasons };
}
