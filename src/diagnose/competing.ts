/**
 * Competing explanations: when the edge input fits several explanations equally well, which one is
 * reported, and which are shown beside it.
 *
 * The case that needs it: a two-tone image (a text line, a document, a logo: two colours and the
 * blends between them). Every channel of such an image is an exact affine function of every other
 * channel (each is fg + t·(bg − fg) for the same t), so a channel swap with the card's normalisation
 * and the card's channel order with an unusual per-channel mean/std produce the same tensor: the
 * residuals cannot choose, and the search keeps the card's order (its tie rule), which reads a
 * BGR/RGB swap as a per-channel normalisation.
 *
 * The rule (docs/diagnose.md, "Competing explanations"): among the channel maps whose fit is within
 * decoder noise of the best (the search's own significance rule, fineSignificant), rank by
 *   1. the number of pipeline steps that differ from the card (fewer first), then
 *   2. how common the bug is: an RGB↔BGR swap (0) < a standard range for every channel — [0,1],
 *      [−1,1], raw [0,255] — (1) < another permutation (2) < a per-channel mean/std the card does not
 *      use (3), then
 *   3. the search's own pick.
 * The first is reported; the others that change no more steps than it are its `alternatives`, each
 * with its channel map, affine fit and residual. Pure.
 */
import { channelNames } from './causes/common.ts';
import { normalizationCause } from './causes/normalization.ts';
import type { Rebuilt } from './candidate.ts';
import { PERMUTATIONS_3, pickPlanes, samePermutation, sig } from './fit.ts';
import { expectedChannels, fineFit, FINE_MIN_GAP_LEVELS, FINE_MIN_RATIO, type InputSearch } from './input-search.ts';
import type { AlternativeExplanation, Cause, CauseCode, InputExplanation } from './types.ts';

const NAMES = ['R', 'G', 'B'];

interface Candidate {
  map: number[];
  best: InputExplanation;
  causes: Cause[];
  steps: number;
  rarity: number;
}

/** The codes this module decides between; the other rules' causes are kept as they are. */
const DECIDES: readonly CauseCode[] = ['channel-order', 'normalization'];

function isSwap(map: readonly number[], expected: readonly number[]): boolean {
  return samePermutation(map, [...expected].reverse());
}

/**
 * A normalisation's rarity: the same range on every channel (a standard scale, or the card's mean/std
 * left out: 1) or different values per channel that the card does not have (3).
 */
function normalizationRarity(best: InputExplanation): number {
  const { scale, offset } = best.affine;
  const span = Math.max(...scale.map((a) => Math.abs(255 * a)), 1e-12);
  const same = scale.every((a, c) => Math.abs(255 * (a - scale[0]!)) <= 0.02 * span && Math.abs(offset[c]! - offset[0]!) <= 0.02 * span);
  return same ? 1 : 3;
}

function candidateOf(s: InputSearch, map: number[], fits: ReturnType<typeof fineFit>, chosen: boolean, chosenCauses: Cause[]): Candidate {
  const best: InputExplanation = { ...s.best, channels: map, affine: { scale: fits.fits.map((f) => f.a), offset: fits.fits.map((f) => f.b) }, residualLevels: fits.levels };
  const expected = expectedChannels(s.spec);
  let causes: Cause[];
  if (chosen) {
    causes = chosenCauses.filter((c) => DECIDES.includes(c.code));
  } else {
    causes = [];
    if (!samePermutation(map, expected)) {
      const fed = map.map((c) => NAMES[c]).join('');
      const want = expected.map((c) => NAMES[c]).join('');
      causes.push({
        code: 'channel-order',
        // The fit cannot tell this from its alternatives: the confidence is the rule's, not the data's.
        confidence: 0.6,
        detail: `channels fed as ${fed}, the model expects ${want}; other explanations fit this image as well (its colours lie on one line, e.g. two-tone text or a logo), this one is the most common (see alternatives)`,
        evidence: { channels: map, expected, residualLevels: sig(fits.levels) },
      });
    }
    const norm = normalizationCause({ ...s, best });
    if (norm) causes.push(norm);
  }
  let rarity = 0;
  for (const c of causes) {
    if (c.code === 'channel-order') rarity += isSwap(map, expected) ? 0 : 2;
    else if (c.code === 'normalization') rarity += normalizationRarity(best);
  }
  return { map, best, causes, steps: causes.length, rarity };
}

function describe(c: Candidate, s: InputSearch): AlternativeExplanation {
  const names = channelNames(s.spec);
  return {
    codes: c.causes.map((x) => x.code),
    detail: c.causes.length ? c.causes.map((x) => `${x.code}: ${x.detail}`).join('; ') : `the card's pipeline (${names.join(', ')})`,
    channels: c.map,
    affine: { scale: c.best.affine.scale.map((x) => sig(x)), offset: c.best.affine.offset.map((x) => sig(x)) },
    residualLevels: sig(c.best.residualLevels),
  };
}

/**
 * Re-rank the channel-order / normalisation reading of a finished search among the channel maps that
 * fit as well. Returns the causes (the other rules' untouched) and the explanation reported as best.
 */
export function rankCompeting(s: InputSearch, causes: Cause[], rebuilt: Rebuilt): { causes: Cause[]; best: InputExplanation } {
  const unchanged = { causes, best: s.best };
  if (s.geometry.channels !== 3 || causes.some((c) => c.code === 'camera-range')) return unchanged;
  const scored = PERMUTATIONS_3.map((m) => ({ map: [...m], fit: fineFit(rebuilt.edge, pickPlanes(rebuilt.rgb, m)) }));
  const min = Math.min(...scored.map((x) => x.fit.levels));
  // Within noise of the best fit: the search's own rule would not replace one by the other.
  const tied = scored.filter((x) => !(x.fit.levels - min > FINE_MIN_GAP_LEVELS && min * FINE_MIN_RATIO < x.fit.levels));
  if (tied.length < 2) return unchanged;
  const chosenMap = s.best.channels;
  const cands = tied.map((x) => candidateOf(s, x.map, x.fit, samePermutation(x.map, chosenMap), causes));
  if (!cands.some((c) => samePermutation(c.map, chosenMap))) return unchanged;
  const rank = (c: Candidate): number => c.steps * 10 + c.rarity;
  const sorted = cands
    .map((c, i) => ({ c, i }))
    .sort((a, b) => rank(a.c) - rank(b.c) || (samePermutation(b.c.map, chosenMap) ? 1 : 0) - (samePermutation(a.c.map, chosenMap) ? 1 : 0) || a.i - b.i)
    .map((x) => x.c);
  const win = sorted[0]!;
  const alternatives = sorted.slice(1).filter((c) => c.steps <= win.steps && c.steps > 0);
  if (win.causes.length === 0 || alternatives.length === 0) {
    return samePermutation(win.map, chosenMap) ? unchanged : { causes: [...causes.filter((c) => !DECIDES.includes(c.code)), ...win.causes], best: win.best };
  }
  const [lead, ...rest] = win.causes;
  const out = [...causes.filter((c) => !DECIDES.includes(c.code)), { ...lead!, alternatives: alternatives.map((c) => describe(c, s)) }, ...rest];
  return { causes: out.sort((a, b) => b.confidence - a.confidence), best: samePermutation(win.map, chosenMap) ? s.best : win.best };
}
