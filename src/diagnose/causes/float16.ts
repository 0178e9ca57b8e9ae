/**
 * `float16`: the edge computed in half precision (WebGL without float32 render targets, the usual
 * phone GPU; `WEBGL_FORCE_F16_TEXTURES`) and that is where the divergence comes from. Evidence: the
 * environment (or recorded values that are all float16 values) plus, at some node, Inf/NaN the
 * reference does not have, values beyond the half range (65504), or own errors at the 1e-4..1e-2 level
 * of an 11-bit mantissa. The node: where Inf/NaN first appears, else the first overflow, else the
 * largest own error.
 */
import { conf, median } from '../fit.ts';
import { isExactOp } from '../attribution.ts';
import { fmt, FLOAT32_OWN_NOISE, HALF_MAX, halfFloatEvidence, replayed, type NodeEvidence } from '../node-evidence.ts';
import type { Comparison } from '../../compare/index.ts';
import type { Trace } from '../../trace/types.ts';
import type { Cause } from '../types.ts';

export function float16Cause(ev: NodeEvidence): Cause | null {
  const half = halfFloatEvidence(ev.edge, ev.ref);
  if (!half.likely || ev.comparison.verdict === 'ok' || ev.comparison.verdict === 'no-data') return null;
  const atts = ev.attributions;
  const owns = replayed(ev).filter((a) => !isExactOp(a.op));
  const nonFinite = atts.find((a) => (a.ownNonFinite ?? a.nonFinite) > 0) ?? atts.find((a) => a.nonFinite > 0);
  const overflow = atts.find((a) => (a.refMaxAbs ?? 0) > HALF_MAX);
  const worstOwn = owns.reduce<(typeof owns)[number] | null>((w, a) => (w === null || (a.own ?? 0) > (w.own ?? 0) ? a : w), null);
  const medOwn = median(owns.map((a) => a.own ?? 0));
  const precisionLoss = owns.length > 0 && medOwn > FLOAT32_OWN_NOISE;
  if (!nonFinite && !overflow && !precisionLoss && ev.inputMatches === false) return null;
  const outNrmse = Math.max(0, ...ev.comparison.outputs.tensors.map((t) => t.metrics?.nrmse ?? 0));
  let node: string | undefined;
  let what: string;
  if (nonFinite) {
    node = nonFinite.node;
    what = `Inf/NaN first appear at ${nonFinite.node} (${nonFinite.op})${overflow ? `; ${overflow.node} reaches ${fmt(overflow.refMaxAbs)} on the reference, beyond float16's ${HALF_MAX}` : ''}`;
  } else if (overflow) {
    node = overflow.node;
    what = `${overflow.node} (${overflow.op}) reaches ${fmt(overflow.refMaxAbs)} on the reference, beyond float16's ${HALF_MAX}`;
  } else if (worstOwn) {
    node = worstOwn.node;
    what = `precision loss at every layer (median own error nrmse ${fmt(medOwn)}, 11-bit mantissa), largest at ${worstOwn.node} (${worstOwn.op}, own nrmse ${fmt(worstOwn.own)})`;
  } else {
    node = ev.comparison.firstDivergent?.name;
    what = `divergence from ${node ?? 'the first layers'} on, growing with depth`;
  }
  let c = half.fromEnvironment ? 0.75 : 0.55;
  if (nonFinite || overflow) c += 0.2;
  else if (precisionLoss) c += 0.15;
  const top1 = ev.comparison.outputs.top1Equal;
  return {
    code: 'float16',
    confidence: conf(c),
    detail: `half-float backend (${half.reasons.join(', ')}): ${what}; output nrmse ${fmt(outNrmse)}${top1 === false ? ', top-1 changed' : ''}`,
    ...(node ? { node } : {}),
    evidence: {
      halfFromEnvironment: half.fromEnvironment,
      halfRepresentable: half.representable,
      medianOwnNrmse: owns.length ? medOwn : null,
      nonFiniteNode: nonFinite?.node ?? null,
      overflowNode: overflow?.node ?? null,
      outputNrmse: outNrmse,
    },
  };
}

/**
 * A half-float run whose comparison stays within tolerance: not a cause, but named (issue 14 item 5) with
 * its measured error, so a reader knows the edge computed in float16 and by how much that moved it.
 */
export function float16Info(edge: Trace, ref: Trace | undefined, c: Comparison): Cause | null {
  const half = halfFloatEvidence(edge, ref);
  if (!half.likely || c.verdict !== 'ok') return null;
  const outNrmse = Math.max(0, ...c.outputs.tensors.map((t) => t.metrics?.nrmse ?? 0));
  const worst = c.nodes.reduce<(typeof c.nodes)[number] | null>((w, n) => ((n.metrics?.nrmse ?? -1) > (w?.metrics?.nrmse ?? -1) ? n : w), null);
  const node = worst?.metrics ? `; largest node nrmse ${fmt(worst.metrics.nrmse)} at ${worst.name}` : '';
  return {
    code: 'float16',
    confidence: conf(half.fromEnvironment ? 0.75 : 0.55),
    detail: `reduced precision: half-float backend (${half.reasons.join(', ')}), within the ${c.tolerance.preset} tolerance on this input: output nrmse ${fmt(outNrmse)}${node}`,
    ...(worst?.metrics ? { node: worst.name } : {}),
  };
}
