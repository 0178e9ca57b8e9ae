/**
 * Reduced precision that stays within tolerance (issue #14 item 5): a model that stores its weights
 * as float16 / uint8 / uint16 (TF.js weight quantization), computes in float16 (an fp16 ONNX model) or
 * in int8 (ONNX quantized ops) is always named — as information with its measured error when the
 * comparison is ok, while `quantization` (causes/quantization.ts) is the cause when it is not.
 * Half-float *textures* (a backend setting, not the model) are float16.ts's.
 */
import type { Comparison } from '../../compare/index.ts';
import type { Trace } from '../../trace/types.ts';
import { conf } from '../fit.ts';
import { fmt, type WeightStorage } from '../node-evidence.ts';
import type { Cause } from '../types.ts';

/** ONNX ops that compute in 8-bit integers (dynamic and static quantization). */
const INT8_OPS = /^(DynamicQuantizeLinear|QuantizeLinear|DequantizeLinear|ConvInteger|MatMulInteger|QLinear\w+|DynamicQuantizeMatMul|MatMulIntegerToFloat)$/;

/** What in this model runs at reduced precision, said plainly; null when nothing does. */
export function reducedPrecisionOf(edge: Trace, weights: WeightStorage | null | undefined): string | null {
  const parts: string[] = [];
  if (weights && weights.total > 0) {
    const q = Object.entries(weights.dtypes).filter(([d, n]) => n > 0 && (d === 'uint8' || d === 'uint16' || d === 'float16'));
    if (q.length > 0) parts.push(`stores ${q.map(([d, n]) => `${n} of ${weights.total} weights as ${d}`).join(', ')}`);
  }
  const nodes = edge.header.nodes;
  const int8 = nodes.filter((n) => INT8_OPS.test(n.op)).length;
  if (int8 > 0) parts.push(`runs ${int8} int8 quantization op${int8 === 1 ? '' : 's'} (${[...new Set(nodes.filter((n) => INT8_OPS.test(n.op)).map((n) => n.op))].slice(0, 3).join(', ')})`);
  const half = nodes.filter((n) => n.outputs.some((o) => o.dtype === 'float16')).length;
  if (half > 0) parts.push(`computes ${half} of ${nodes.length} nodes in float16`);
  return parts.length > 0 ? `the model ${parts.join('; ')}` : null;
}

/**
 * The information finding when the model runs at reduced precision and the comparison is ok. With the
 * same model on both sides the loss to the float original is not measured here, and it says so.
 */
export function reducedPrecisionInfo(edge: Trace, ref: Trace | undefined, c: Comparison, weights: WeightStorage | null | undefined): Cause | null {
  if (c.verdict !== 'ok') return null;
  const what = reducedPrecisionOf(edge, weights);
  if (!what) return null;
  const outNrmse = Math.max(0, ...c.outputs.tensors.map((t) => t.metrics?.nrmse ?? 0));
  const sameModel = !!ref && edge.header.model.sha256 === ref.header.model.sha256;
  const measured = sameModel
    ? `; the reference ran the same model, so this does not measure what the reduced precision costs against the float original (give that as the reference's --model to measure it): output nrmse ${fmt(outNrmse)} between the backends`
    : `; within the ${c.tolerance.preset} tolerance of the reference on this input: output nrmse ${fmt(outNrmse)}`;
  return {
    code: 'quantization',
    confidence: conf(sameModel ? 0.5 : 0.7),
    detail: `reduced precision: ${what}${measured}`,
    evidence: { sameModel, outputNrmse: outNrmse },
  };
}
