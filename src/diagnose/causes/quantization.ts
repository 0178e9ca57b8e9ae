/**
 * `quantization`: the edge ran a model whose weights were quantized (uint8/uint16/float16 storage)
 * and the reference is the float original (`--model`). Evidence: the two model hashes differ and the
 * own error (each layer replayed with the edge's inputs on the float weights) is spread over many
 * layers, not one. Reports the layers that lose most, with rmse/scale in 8-bit output steps (the
 * TFLite quantization debugger's per-layer metric).
 */
import { isExactOp } from '../attribution.ts';
import { conf } from '../fit.ts';
import { fmt, FLOAT32_OWN_NOISE, modelsDiffer, replayed, type NodeEvidence } from '../node-evidence.ts';
import type { Cause } from '../types.ts';

/** Own error above which a layer counts as losing precision to its weights. */
export const QUANT_OWN_NRMSE = 10 * FLOAT32_OWN_NOISE;

function weightsNote(ev: NodeEvidence): string {
  const w = ev.edgeWeights;
  if (!w || w.total === 0) return '';
  const q = Object.entries(w.dtypes).filter(([d]) => d === 'uint8' || d === 'uint16' || d === 'float16');
  if (q.length === 0) return ' (the edge model stores its weights as float32)';
  return ` (the edge model stores ${q.map(([d, n]) => `${n} of ${w.total} weights as ${d}`).join(', ')})`;
}

export function quantizationCause(ev: NodeEvidence): Cause | null {
  if (!modelsDiffer(ev) || ev.comparison.verdict === 'ok' || ev.comparison.verdict === 'no-data') return null;
  const owns = replayed(ev).filter((a) => !isExactOp(a.op));
  const outNrmse = Math.max(0, ...ev.comparison.outputs.tensors.map((t) => t.metrics?.nrmse ?? 0));
  const top1 = ev.comparison.outputs.top1Equal;
  const tail = `; output nrmse ${fmt(outNrmse)}${top1 === false ? ', top-1 changed' : top1 ? ', top-1 unchanged' : ''}`;
  const ids = { edgeModel: ev.edge.header.model.sha256.slice(0, 12), refModel: ev.ref.header.model.sha256.slice(0, 12) };
  if (owns.length === 0) {
    if (ev.inputMatches === false) return null;
    const first = ev.comparison.firstDivergent;
    return {
      code: 'quantization',
      confidence: 0.5,
      detail: `the edge model's weights differ from the reference${weightsNote(ev)}; divergence starts at ${first?.name ?? 'the first layer'} (no per-layer replay: own errors unknown)${tail}`,
      ...(first ? { node: first.name } : {}),
      evidence: { ...ids, outputNrmse: outNrmse },
    };
  }
  const losing = owns.filter((a) => (a.own ?? 0) > QUANT_OWN_NRMSE).sort((a, b) => (b.own ?? 0) - (a.own ?? 0));
  if (losing.length < 2) return null; // one node alone is a `kernel` finding
  const top = losing.slice(0, 3);
  const list = top.map((a) => `${a.node} (${a.op}: own nrmse ${fmt(a.own)}, rmse/scale ${fmt(a.rmseOverScale)})`).join(', ');
  const c = losing.length >= 3 ? 0.85 : 0.7;
  return {
    code: 'quantization',
    confidence: conf(weightsNote(ev).includes('float32') ? c - 0.2 : c),
    detail: `the edge model's weights differ from the reference${weightsNote(ev)}: ${losing.length} of ${owns.length} replayed computing layers lose precision on their own inputs; most: ${list}${tail}`,
    node: top[0]!.node,
    evidence: {
      ...ids,
      losingLayers: losing.length,
      replayedLayers: owns.length,
      worst: top.map((a) => a.node),
      worstOwnNrmse: top.map((a) => a.own ?? 0),
      worstRmseOverScale: top.map((a) => a.rmseOverScale ?? 0),
      outputNrmse: outNrmse,
    },
  };
}
