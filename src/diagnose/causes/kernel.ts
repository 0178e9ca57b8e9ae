/**
 * `kernel`: one node computes a wrong result from its own inputs — a backend kernel bug, a
 * mis-loaded or corrupted weight. Evidence: the node replayed alone on the reference backend with the
 * edge's recorded inputs differs from the edge's output by more than the float32 tolerance (float16
 * tolerance on half-float backends), and, when other effects spread error everywhere (quantized
 * weights, half floats), by far more than the typical layer. Its error is split into own vs inherited.
 */
import { isExactOp } from '../attribution.ts';
import { conf } from '../fit.ts';
import {
  fmt,
  halfFloatEvidence,
  KERNEL_OWN_NRMSE,
  KERNEL_OWN_NRMSE_HALF,
  modelsDiffer,
  replayed,
  typicalOwn,
  type NodeEvidence,
} from '../node-evidence.ts';
import type { Cause } from '../types.ts';
import { QUANT_OWN_NRMSE } from './quantization.ts';

/** How far above the typical own error an outlier must be when errors are spread everywhere (half floats). */
export const KERNEL_OUTLIER_FACTOR = 10;
/**
 * With quantized weights (the models differ) one layer can lose 10–20× more than the others just from
 * an uneven weight range; a kernel finding there needs a far stronger outlier and a large own error.
 */
export const KERNEL_OUTLIER_FACTOR_QUANTIZED = 30;
export const KERNEL_OWN_NRMSE_QUANTIZED = 0.05;
/** At most this many kernel causes are reported (the worst). */
export const MAX_KERNEL_CAUSES = 3;

export function kernelCauses(ev: NodeEvidence): Cause[] {
  if (ev.comparison.verdict === 'ok' || ev.comparison.verdict === 'no-data') return [];
  const half = halfFloatEvidence(ev.edge, ev.ref).likely;
  const quantized = modelsDiffer(ev);
  const spread = half || quantized;
  const threshold = quantized ? KERNEL_OWN_NRMSE_QUANTIZED : half ? KERNEL_OWN_NRMSE_HALF : KERNEL_OWN_NRMSE;
  const factor = quantized ? KERNEL_OUTLIER_FACTOR_QUANTIZED : KERNEL_OUTLIER_FACTOR;
  const owns = replayed(ev);
  const backend = ev.referenceBackend ?? ev.ref.header.runtime.backend;
  if (owns.length === 0) {
    // No replay (stats capture, replay impossible): only the comparison's origin, when nothing else can explain it.
    const c = ev.comparison;
    if (spread || c.inputs.verdict !== 'identical' || !c.firstDivergent) return [];
    const f = c.firstDivergent;
    return [
      {
        code: 'kernel',
        confidence: 0.5,
        detail: `${f.name} (${f.op}) is the first node to diverge with identical inputs (${f.reasons.join('; ') || 'beyond tolerance'}); not confirmed by a replay of the node alone`,
        node: f.name,
        evidence: { replayed: false },
      },
    ];
  }
  const computing = owns.filter((a) => !isExactOp(a.op));
  const typical = typicalOwn(computing);
  // Models that differ but only one computing layer loses precision on its own inputs: not a
  // quantization spread (that is many layers: causes/quantization.ts) but one changed or corrupted
  // weight — named here even below the quantized threshold, or the run is left unexplained.
  // Only when the deployed model is known to store full-precision weights (--edge-model): with
  // uint8/uint16/float16 storage one layer can lose alone just from its weight range.
  const stored = ev.edgeWeights;
  const fullPrecision = !!stored && stored.total > 0 && !Object.keys(stored.dtypes).some((d) => d === 'uint8' || d === 'uint16' || d === 'float16');
  const losing = quantized && !half && fullPrecision ? computing.filter((a) => (a.own ?? 0) > QUANT_OWN_NRMSE) : [];
  const lone = losing.length === 1 && (losing[0]!.own ?? 0) > factor * typical ? losing[0] : undefined;
  const cands = owns
    .filter((a) => (a.own ?? 0) > threshold || (a.ownNonFinite ?? 0) > 0 || a === lone)
    .filter((a) => !spread || a === lone || (a.own ?? 0) > factor * typical || (!half && (a.ownNonFinite ?? 0) > 0))
    .sort((a, b) => (b.own ?? 0) - (a.own ?? 0))
    .slice(0, MAX_KERNEL_CAUSES);
  return cands.map((a) => {
    const own = a.own ?? 0;
    // Beyond the tolerance (log scale) and standing out from the typical node's own error.
    const beyond = Math.min(1, Math.log10(Math.max(1, own / threshold)));
    const outlier = Math.min(1, Math.log10(Math.max(1, own / Math.max(typical, 1e-7))) / 3);
    let c = 0.6 + 0.2 * beyond + 0.17 * outlier;
    if ((a.ownShare ?? 1) < 0.5) c *= 0.8;
    const nf = (a.ownNonFinite ?? 0) > 0 ? `, ${a.ownNonFinite} NaN/Inf of its own` : '';
    return {
      code: 'kernel' as const,
      confidence: conf(Math.min(0.97, c)),
      detail: `${a.node} (${a.op}) is wrong on its own inputs: replayed alone on ${backend} with the edge's recorded inputs it differs from the edge's output by nrmse ${fmt(own)}${nf} (inherited from its inputs: ${fmt(a.inherited)}, total ${fmt(a.total)})${a === lone ? "; the edge model's weights differ from the reference's and this is the only layer that loses precision on its own inputs: a changed weight, not quantization" : ''}`,
      node: a.node,
      evidence: { own, inherited: a.inherited, total: a.total, ownShare: a.ownShare, threshold, typicalOwn: typical },
    };
  });
}
