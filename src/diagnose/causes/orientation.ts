/**
 * `orientation`: the edge fed the photo rotated or mirrored. Evidence: of the 8 EXIF orientations
 * applied to the stored pixels, another one than the card's explains the edge input far better
 * (coarse residual after the per-channel affine fit).
 */
import { applyExifOrientation } from '../../preprocess/orientation.ts';
import type { RgbaImage } from '../../preprocess/image.ts';
import { coarseSignificant, type InputSearch } from '../input-search.ts';
import { sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { ratioConfidence } from './common.ts';

/** What applying EXIF orientation k does to an image (applyExifOrientation semantics). */
export const ORIENTATION_EFFECT: Record<number, string> = {
  1: 'unchanged',
  2: 'mirrored left-right',
  3: 'rotated 180°',
  4: 'mirrored top-bottom',
  5: 'transposed (mirrored across the main diagonal)',
  6: 'rotated 90° clockwise',
  7: 'mirrored across the anti-diagonal',
  8: 'rotated 90° counter-clockwise',
};

/** What displaying a photo with EXIF orientation k upright requires. */
const ORIENTATION_FIX: Record<number, string> = {
  1: 'no change',
  2: 'a left-right mirror',
  3: 'a 180° rotation',
  4: 'a top-bottom mirror',
  5: 'a transpose',
  6: 'a 90° clockwise rotation',
  7: 'an anti-diagonal mirror',
  8: 'a 90° counter-clockwise rotation',
};

const PROBE: RgbaImage = (() => {
  // 3 × 2 image whose 6 pixels are all different: tells the 8 orientations apart.
  const data = new Uint8ClampedArray(3 * 2 * 4);
  for (let i = 0; i < 6; i++) data[4 * i] = i + 1;
  return { width: 3, height: 2, data };
})();

function key(img: RgbaImage): string {
  const out: number[] = [img.width, img.height];
  for (let i = 0; i < img.data.length; i += 4) out.push(img.data[i] as number);
  return out.join(',');
}

/**
 * The transform g with applyExif(applyExif(stored, source), g) = applyExif(stored, applied): how the
 * edge's image relates to the upright one.
 */
export function relativeOrientation(source: number, applied: number): number {
  const upright = applyExifOrientation(PROBE, source);
  const target = key(applyExifOrientation(PROBE, applied));
  for (let g = 1; g <= 8; g++) if (key(applyExifOrientation(upright, g)) === target) return g;
  return 1;
}

/**
 * True when the search explains the edge input as the canonical image transposed (height and width
 * swapped: a layout bug, not a rotation), whatever the photo's EXIF tag. Not when the edge's image is
 * what the other EXIF choice gives (tag ignored, or applied against the card): that is `orientation`,
 * even where it amounts to a transpose (a photo tagged 5).
 */
export function isPureTranspose(s: InputSearch): boolean {
  const o = s.sourceOrientation;
  const apply = s.spec.exif === 'apply';
  if (o !== 1 && s.best.appliedOrientation === (apply ? 1 : o)) return false;
  return relativeOrientation(apply ? o : 1, s.best.appliedOrientation) === 5;
}

export function orientationCause(s: InputSearch): Cause | null {
  const a = s.coarse.orientation;
  const applied = s.best.appliedOrientation;
  const expected = s.canonical.appliedOrientation;
  if (applied === expected || !coarseSignificant(a)) return null;
  if (isPureTranspose(s)) return null; // reported as `layout`
  const o = s.sourceOrientation;
  const g = relativeOrientation(s.spec.exif === 'apply' ? o : 1, applied);
  const seen = ORIENTATION_EFFECT[g] ?? `orientation ${g}`;
  let detail: string;
  if (o !== 1 && applied === 1 && s.spec.exif === 'apply') {
    detail = `EXIF orientation ${o} ignored: the model saw the photo ${seen} (the file asks for ${ORIENTATION_FIX[o]} to display it upright)`;
  } else if (o !== 1 && s.spec.exif === 'apply') {
    detail = `EXIF orientation ${o} applied wrongly (as ${applied}): the model saw the photo ${seen}`;
  } else if (s.spec.exif === 'ignore' && applied !== 1) {
    detail = `the photo was re-oriented (as EXIF ${applied}) though the card says EXIF is ignored: the model saw it ${seen}`;
  } else {
    detail = `the model saw the photo ${seen}; the file has no EXIF rotation (a camera frame not rotated to upright?)`;
  }
  return {
    code: 'orientation',
    confidence: ratioConfidence(a.bestScore, a.expectedScore, 0.002),
    detail,
    evidence: {
      sourceOrientation: o,
      appliedOrientation: applied,
      expectedOrientation: expected,
      relativeTransform: g,
      residual: sig(a.bestScore),
      residualAsExpected: sig(a.expectedScore),
    },
  };
}
