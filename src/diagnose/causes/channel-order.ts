/**
 * `channel-order`: the edge fed the colour channels in another order (BGR for RGB, any permutation),
 * or computed grayscale with the weights in the wrong order. Evidence: the permutation whose
 * per-channel affine fit leaves the smallest residual, clearly below the card's order.
 */
import { coarseSignificant, fineSignificant, type InputSearch } from '../input-search.ts';
import { samePermutation, sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { ratioConfidence } from './common.ts';

const NAMES = ['R', 'G', 'B'];

export function channelOrderCause(s: InputSearch): Cause | null {
  const got = s.best.channels;
  const want = s.canonical.channels;
  if (samePermutation(got, want)) return null;
  const fine = s.fine.channels;
  const coarse = s.coarse.channels;
  if (!fineSignificant(fine) && !coarseSignificant(coarse)) return null;
  const confidence = Math.max(ratioConfidence(fine.bestScore, fine.expectedScore, 0.3), ratioConfidence(coarse.bestScore, coarse.expectedScore, 0.002));
  let detail: string;
  if (s.spec.channels === 'grayscale') {
    detail = 'grayscale computed with the R and B weights swapped (BGR pixels treated as RGB)';
  } else {
    const fed = got.map((c) => NAMES[c]).join('');
    const expected = want.map((c) => NAMES[c]).join('');
    detail = `channels fed as ${fed}, the model expects ${expected}`;
  }
  return {
    code: 'channel-order',
    confidence,
    detail,
    evidence: { channels: got, expected: want, residualLevels: sig(fine.bestScore), residualLevelsAsExpected: sig(fine.expectedScore) },
  };
}
