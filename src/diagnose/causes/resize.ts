/**
 * `resize`: another resize method or fit than the card's (nearest vs bilinear, align-corners vs
 * half-pixel centres, area, antialias; center crop vs stretch vs letterbox), or another input size.
 * Evidence: at model resolution, with geometry and channels fixed, the variant that leaves the
 * smallest residual, clearly below the card's.
 */
import { fineSignificant, resizeKey, type InputSearch } from '../input-search.ts';
import { sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { describeFit, describeResize, ratioConfidence } from './common.ts';

export function resizeCause(s: InputSearch): Cause | null {
  if (!s.sizeMatches) {
    return {
      code: 'resize',
      confidence: 0.9,
      detail: `input resized to ${s.geometry.width}×${s.geometry.height}, the card says ${s.spec.width}×${s.spec.height}`,
      evidence: { width: s.geometry.width, height: s.geometry.height, expectedWidth: s.spec.width, expectedHeight: s.spec.height },
    };
  }
  const a = s.fine.resize;
  const got = s.best.resize;
  const want = s.canonical.resize;
  const sameMethod = resizeKey(got) === resizeKey(want);
  const sameFit = got.fit === want.fit;
  if ((sameMethod && sameFit) || !fineSignificant(a)) return null;
  const parts: string[] = [];
  if (!sameFit) parts.push(`${describeFit(got.fit)} instead of ${describeFit(want.fit)}`);
  if (!sameMethod) parts.push(`${describeResize(got)} instead of ${describeResize(want)}`);
  return {
    code: 'resize',
    confidence: ratioConfidence(a.bestScore, a.expectedScore, 0.3),
    detail: `resized with ${parts.join(', ')}`,
    evidence: {
      method: resizeKey(got),
      fit: got.fit,
      expectedMethod: resizeKey(want),
      expectedFit: want.fit,
      residualLevels: sig(a.bestScore),
      residualLevelsAsExpected: sig(a.expectedScore),
    },
  };
}
