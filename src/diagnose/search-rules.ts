/**
 * The input search's candidates and decision rules: the resize variants it tries (and when the costly
 * antialiased cubic kernels are worth trying), the fit modes, each resize's name (`resizeKey`), and
 * when a candidate is significantly better than what the card expects (coarse and fine). Pure.
 */
import type { PreprocessSpec } from '../trace/types.ts';
import type { AxisEvidence, Fit } from './input-search-types.ts';

type ResizeOpts = PreprocessSpec['resize'];

export const RESIZE_VARIANTS: readonly ResizeOpts[] = [
  { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: false },
  { method: 'bilinear', alignCorners: true, halfPixelCenters: false, antialias: false },
  { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false },
  // Chromium's canvas drawImage, 'low' quality: the same as the one above below a 2× downscale (ties go to it).
  { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false, prescale: 'mip-level' },
  { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: true },
  { method: 'nearest', alignCorners: false, halfPixelCenters: false, antialias: false },
  { method: 'nearest', alignCorners: true, halfPixelCenters: false, antialias: false },
  { method: 'nearest', alignCorners: false, halfPixelCenters: true, antialias: false },
  { method: 'area', alignCorners: false, halfPixelCenters: false, antialias: false },
  // Fixed-support cubic kernels (tf.image.resize 'bicubic' / 'lanczos3' without antialias): 4 / 6 taps, cheap.
  { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias: false },
  { method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: false },
];

/**
 * Antialiased cubic kernels (PIL, sharp/libvips, canvas 'high'): their support grows with the
 * downscale factor (4 or 6 input pixels per output pixel per axis), so they cost 2–3× an antialiased
 * bilinear. Computed only when the other variants leave room for them (see `wantSmooth`).
 */
export const SMOOTH_VARIANTS: readonly ResizeOpts[] = [
  { method: 'bicubic', alignCorners: false, halfPixelCenters: true, antialias: true },
  { method: 'lanczos3', alignCorners: false, halfPixelCenters: true, antialias: true },
];

/**
 * An antialiased cubic kernel is worth computing when the best of the others is itself a smoothing
 * filter (area, antialiased bilinear: the cubic ones sit between them and the sharp ones), or when the
 * best leaves more than decoder noise unexplained. A clean input matched by the card's sharp bilinear
 * at noise level skips them.
 */
export function wantSmooth(best: ResizeOpts, levels: number): boolean {
  return best.method === 'area' || (best.method === 'bilinear' && best.antialias) || levels > SMOOTH_TRIGGER_LEVELS;
}
/** Residual (levels rms) above which the antialiased cubic kernels are tried whatever won. */
export const SMOOTH_TRIGGER_LEVELS = 1;

export const FITS: readonly Fit[] = ['stretch', 'center-crop', 'letterbox'];

export function resizeKey(r: ResizeOpts): string {
  if (r.prescale === 'mip-level') return 'canvas-low';
  if (r.method === 'area') return `area${r.alignCorners ? '+ac' : ''}`;
  if (r.method === 'bilinear' && r.antialias) return 'bilinear+aa';
  // Pixel-centre sampling is implied: only antialias tells them apart.
  if (r.method === 'bicubic' || r.method === 'lanczos3') return `${r.method}${r.antialias ? '+aa' : ''}`;
  return `${r.method}${r.alignCorners ? '+ac' : ''}${r.halfPixelCenters ? '+hpc' : ''}`;
}

/**
 * Coarse decision rule (scores are mean 1 − r² on box-averaged 32-px images): the expected value is
 * replaced only when the best candidate leaves less than half its residual and the gap is more than
 * noise.
 */
export function coarseSignificant<T>(a: AxisEvidence<T>): boolean {
  return a.expectedScore - a.bestScore > COARSE_MIN_GAP && a.bestScore < COARSE_MAX_RATIO * a.expectedScore;
}

/**
 * Fine decision rule (scores are residuals in pixel levels): the expected value is replaced only when
 * the best candidate explains clearly more — by more than decoder noise (±1 level) can, and by a
 * clear factor.
 */
export function fineSignificant<T>(a: AxisEvidence<T>): boolean {
  return a.expectedScore - a.bestScore > FINE_MIN_GAP_LEVELS && a.bestScore * FINE_MIN_RATIO < a.expectedScore;
}

export const COARSE_MIN_GAP = 0.01;
export const COARSE_MAX_RATIO = 0.5;
export const FINE_MIN_GAP_LEVELS = 0.6;
export const FINE_MIN_RATIO = 1.5;
