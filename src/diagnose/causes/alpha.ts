/**
 * `alpha`: transparency handled differently from the card (RGB premultiplied by alpha — what a 2D
 * canvas or a WebGL texture upload with premultipliedAlpha does — where the card drops alpha, or the
 * reverse). Evidence: only for photos with transparent pixels; the other alpha mode explains the
 * edge input clearly better at model resolution.
 */
import { fineSignificant, type InputSearch } from '../input-search.ts';
import { sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { percent, ratioConfidence } from './common.ts';

export function alphaCause(s: InputSearch): Cause | null {
  const a = s.fine.alpha;
  if (!a || s.best.alpha === s.canonical.alpha || !fineSignificant(a)) return null;
  const detail =
    s.best.alpha === 'premultiply'
      ? `RGB premultiplied by alpha (${percent(s.transparentFraction)} of the pixels are not opaque): transparent areas went dark; the card drops alpha as stored`
      : `alpha dropped as stored (${percent(s.transparentFraction)} of the pixels are not opaque); the card premultiplies RGB by alpha`;
  return {
    code: 'alpha',
    confidence: ratioConfidence(a.bestScore, a.expectedScore, 0.3),
    detail,
    evidence: { alpha: s.best.alpha, expected: s.canonical.alpha, transparentFraction: sig(s.transparentFraction), residualLevels: sig(a.bestScore), residualLevelsAsExpected: sig(a.expectedScore) },
  };
}
