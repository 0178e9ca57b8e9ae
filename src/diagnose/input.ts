/**
 * Input-level diagnosis: search the pre-processing the edge ran (input-search.ts) and turn the
 * evidence into causes, one rule per cause (./causes). Pure.
 */
import { alphaCause } from './causes/alpha.ts';
import { cameraRangeCause } from './causes/camera-range.ts';
import { channelOrderCause } from './causes/channel-order.ts';
import { colourProfileCause } from './causes/colour-profile.ts';
import { decoderEvidence } from './causes/decoder.ts';
import { layoutCause } from './causes/layout.ts';
import { normalizationCause } from './causes/normalization.ts';
import { orientationCause } from './causes/orientation.ts';
import { resizeCause } from './causes/resize.ts';
import { rebuildBest } from './candidate.ts';
import { rankCompeting } from './competing.ts';
import { niceNumber } from './fit.ts';
import { searchInput, type InputSearch, type InputSearchArgs, type InputSearchOptions } from './input-search.ts';
import type { Cause, InputFit } from './types.ts';

/**
 * rms residual (pixel levels, 0..255) below which the edge input counts as the canonical one: JPEG
 * decoders differ by ±1 level (≈0.5–0.8 rms), int casts add 0.3, resizer rounding far less; a photo
 * re-encoded as JPEG (quality 80–98, 4:2:0 chroma) on the way to the device leaves 1–4.5 levels on
 * colourful photos.
 */
export const MATCH_LEVELS = 5;
/** rms residual below which the best candidate counts as an explanation of the edge input. */
export const EXPLAINED_LEVELS = 5;

/** Input causes from a finished search, most likely first. */
export function inputCauses(s: InputSearch): Cause[] {
  // A camera frame's range mix-up is an affine map of the pixels: it explains the normalisation
  // difference the fit sees, so that is not reported beside it.
  const camera = cameraRangeCause(s);
  const causes = [orientationCause(s), layoutCause(s), channelOrderCause(s), resizeCause(s), alphaCause(s), camera, camera ? null : normalizationCause(s)].filter(
    (c): c is Cause => c !== null,
  );
  return causes.sort((a, b) => b.confidence - a.confidence);
}

export function fitInput(args: InputSearchArgs, options: InputSearchOptions = {}): InputFit {
  const searched = searchInput(args, options);
  // A colour-profile conversion mixes the channels, which no per-channel candidate of the search can
  // explain: when it explains the input, the explanation includes it and the other rules read that.
  const colour = colourProfileCause(searched, args, args.iccProfile);
  const s = colour ? { ...searched, best: colour.explanation } : searched;
  const explained = s.best.residualLevels <= EXPLAINED_LEVELS;
  // Without an explanation the fitted steps mean nothing: claim no cause, say so in the notes.
  const found = explained ? (colour ? [colour.cause, ...inputCauses(s)].sort((a, b) => b.confidence - a.confidence) : inputCauses(s)) : [];
  // The best explanation as pixels, for the rules that look at where the edge differs (decoder) or
  // weigh explanations the residuals cannot tell apart (competing.ts: two-tone images).
  const rebuilt = explained && !colour ? rebuildBest(args, s) : null;
  const { causes, best } = rebuilt ? rankCompeting(s, found, rebuilt) : { causes: found, best: s.best };
  const matches = causes.length === 0 && s.canonicalResidualLevels !== null && s.canonicalResidualLevels <= MATCH_LEVELS;
  const notes: string[] = [];
  if (!explained) {
    notes.push(
      `no candidate pipeline explains the edge input: ${niceNumber(s.best.residualLevels)} levels rms remain after the best fit (a different photo, colour management or lossy re-encoding?)`,
    );
  } else if (causes.length === 0 && !matches && s.canonicalResidualLevels !== null) {
    notes.push(`the edge input differs from the canonical one by ${niceNumber(s.canonicalResidualLevels)} levels rms, more than decoder noise, in a way no candidate step explains`);
  }
  if (s.transparentFraction > 0 && !causes.some((c) => c.code === 'alpha')) notes.push('the photo has transparent pixels; the alpha handling matches the card');
  return {
    matches,
    explained,
    canonicalResidualLevels: s.canonicalResidualLevels,
    canonical: s.canonical,
    best,
    causes,
    decoder: rebuilt ? decoderEvidence(args, s, explained, rebuilt) : null,
    edgeSize: { width: s.geometry.width, height: s.geometry.height },
    notes,
    ms: Math.round(s.ms),
  };
}
