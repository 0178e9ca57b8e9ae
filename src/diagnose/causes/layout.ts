/**
 * `layout`: the edge's buffer is in another memory order than the model's input (NCHW data in an NHWC
 * tensor or the reverse: reshaped instead of transposed), or height and width are transposed.
 * Evidence: reading the buffer in the other order (or transposed) explains it far better.
 */
import { coarseSignificant, type InputSearch } from '../input-search.ts';
import { sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { ratioConfidence } from './common.ts';
import { isPureTranspose } from './orientation.ts';

export function layoutCause(s: InputSearch): Cause | null {
  const order = s.coarse.memoryOrder;
  if (s.best.memoryOrder !== s.canonical.memoryOrder && coarseSignificant(order)) {
    const want = s.spec.layout.toUpperCase();
    const detail =
      s.best.memoryOrder === 'chw'
        ? `channel-planar (NCHW) data in the ${want} input [${s.geometry.shapeOrder === 'hwc' ? `1,${s.geometry.height},${s.geometry.width},${s.geometry.channels}` : `1,${s.geometry.channels},${s.geometry.height},${s.geometry.width}`}]: the buffer was reshaped, not transposed`
        : `channel-interleaved (NHWC) data in the ${want} input: the buffer was reshaped, not transposed`;
    return {
      code: 'layout',
      confidence: ratioConfidence(order.bestScore, order.expectedScore, 0.002),
      detail,
      evidence: { memoryOrder: s.best.memoryOrder, expected: s.canonical.memoryOrder, residual: sig(order.bestScore), residualAsExpected: sig(order.expectedScore) },
    };
  }
  const o = s.coarse.orientation;
  if (isPureTranspose(s) && coarseSignificant(o)) {
    return {
      code: 'layout',
      confidence: ratioConfidence(o.bestScore, o.expectedScore, 0.002),
      detail: 'height and width transposed: the image was fed as W×H (x and y swapped)',
      evidence: { transposed: true, residual: sig(o.bestScore), residualAsExpected: sig(o.expectedScore) },
    };
  }
  return null;
}
