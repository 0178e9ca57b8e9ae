/**
 * `normalization`: the edge mapped pixels to values with another scale/offset than the card
 * ([0,1] for [-1,1], raw [0,255], a missing per-channel mean/std). Evidence: the per-channel
 * least-squares affine fit value = a·pixel + b of the edge input against the best-explaining
 * candidate, compared with the same fit of the canonical input: the value ranges that pixels
 * 0..255 map to.
 */
import type { InputSearch } from '../input-search.ts';
import { niceRange, sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { channelNames } from './common.ts';

/**
 * Relative range difference (of the expected span) above which a normalisation differs, when the
 * best candidate explains the input exactly. Lossy paths (a JPEG re-encoded with 4:2:0 chroma, which
 * blurs colour) bias the fitted per-channel slope down by a few percent, so the tolerance widens with
 * the residual the fit leaves: + 1% per pixel level, up to 5 levels.
 */
export const NORMALIZATION_TOLERANCE = 0.04;
export function normalizationTolerance(residualLevels: number): number {
  return NORMALIZATION_TOLERANCE + 0.01 * Math.min(5, Math.max(0, residualLevels));
}

function ranges(scale: number[], offset: number[]): [number, number][] {
  return scale.map((a, c) => [offset[c] as number, 255 * a + (offset[c] as number)]);
}

function allSame(rs: [number, number][], tol: number): boolean {
  const [lo0, hi0] = rs[0] ?? [0, 0];
  return rs.every(([lo, hi]) => Math.abs(lo - lo0) <= tol && Math.abs(hi - hi0) <= tol);
}

function near(r: [number, number], lo: number, hi: number): boolean {
  const span = Math.max(1e-9, Math.abs(hi - lo));
  return Math.abs(r[0] - lo) <= 0.02 * span && Math.abs(r[1] - hi) <= 0.02 * span;
}

function describeRanges(rs: [number, number][], names: string[]): string {
  const span = Math.max(...rs.map(([lo, hi]) => Math.abs(hi - lo)), 1e-9);
  if (allSame(rs, 0.01 * span)) return niceRange(rs[0]![0], rs[0]![1]);
  return rs.map(([lo, hi], c) => `${names[c]} ${niceRange(lo, hi)}`).join(', ');
}

function worstDifference(got: [number, number][], want: [number, number][]): number {
  let worst = 0;
  got.forEach(([lo, hi], c) => {
    const [elo, ehi] = want[c] ?? [0, 0];
    const span = Math.max(1e-12, Math.abs(ehi - elo));
    worst = Math.max(worst, Math.abs(lo - elo) / span, Math.abs(hi - ehi) / span);
  });
  return worst;
}

export function normalizationCause(s: InputSearch): Cause | null {
  const got = ranges(s.best.affine.scale, s.best.affine.offset);
  const want = ranges(s.canonical.affine.scale, s.canonical.affine.offset);
  const worst = worstDifference(got, want);
  const tol = normalizationTolerance(s.best.residualLevels);
  if (!(worst > tol)) return null;
  // Channels swapped together with their mean/std (e.g. BGR fed with the B, G, R statistics): the
  // values are right for the channel that was fed; that is the channel-order cause alone.
  if (got.length > 1 && s.best.channels.some((j, c) => j !== s.canonical.channels[c])) {
    const moved = s.best.channels.map((j) => want[s.canonical.channels.indexOf(j)] ?? [0, 0]) as [number, number][];
    if (!(worstDifference(got, moved) > tol)) return null;
  }
  const names = channelNames(s.spec);
  const hints: string[] = [];
  const spanGot = Math.max(...got.map(([lo, hi]) => Math.abs(hi - lo)));
  const spanWant = Math.max(...want.map(([lo, hi]) => Math.abs(hi - lo)));
  const sameGot = allSame(got, 0.01 * spanGot);
  const sameWant = allSame(want, 0.01 * spanWant);
  if (sameGot && near(got[0]!, 0, 255)) hints.push('raw pixels: scale/mean/std not applied');
  else if (sameGot && near(got[0]!, 0, 1)) hints.push('pixels/255');
  else if (sameGot && near(got[0]!, -1, 1)) hints.push('pixels/127.5 − 1');
  if (sameGot && !sameWant) hints.push('per-channel mean/std not applied');
  if (!sameGot && sameWant) hints.push('a per-channel mean/std the card does not use');
  if (s.best.affine.scale.some((a) => a <= 0)) hints.push('values inverted');
  // Confidence: the fit is exact when the candidate explains the input; discount when it does not.
  const explained = s.best.residualLevels <= 3 ? 1 : 0.7;
  const confidence = Math.min(0.99, (worst / (worst + tol)) * explained);
  return {
    code: 'normalization',
    confidence: Math.round(confidence * 1000) / 1000,
    detail: `given ${describeRanges(got, names)}, expected ${describeRanges(want, names)}${hints.length ? ` (${hints.join('; ')})` : ''}`,
    evidence: {
      scale: s.best.affine.scale.map((x) => sig(x)),
      offset: s.best.affine.offset.map((x) => sig(x)),
      expectedScale: s.canonical.affine.scale.map((x) => sig(x)),
      expectedOffset: s.canonical.affine.offset.map((x) => sig(x)),
      rangeError: sig(worst),
      tolerance: sig(tol),
    },
  };
}
