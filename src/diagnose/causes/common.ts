/** Shared wording and scoring for the cause rules. Pure. */
import type { PreprocessSpec } from '../../trace/types.ts';
import { conf } from '../fit.ts';
import type { ResizeChoice } from '../types.ts';

/**
 * Confidence from two residuals: how much of the expected explanation's residual the best one
 * removes, with a floor so that two tiny residuals do not make a confident call.
 */
export function ratioConfidence(best: number, expected: number, floor: number): number {
  if (!(expected > best)) return 0;
  return conf(1 - (best + floor) / (expected + floor));
}

/** Names of the model's channels in its own order. */
export function channelNames(spec: PreprocessSpec): string[] {
  if (spec.channels === 'grayscale') return ['gray'];
  return spec.channels === 'bgr' ? ['B', 'G', 'R'] : ['R', 'G', 'B'];
}

export function describeResize(r: Omit<ResizeChoice, 'fit'>): string {
  switch (r.method) {
    case 'bilinear':
      if (r.antialias) return 'bilinear (antialiased)';
      if (r.alignCorners) return 'bilinear (align corners)';
      if (r.halfPixelCenters) return 'bilinear (half-pixel centres)';
      return 'bilinear';
    case 'nearest':
      if (r.alignCorners) return 'nearest (align corners)';
      if (r.halfPixelCenters) return 'nearest (half-pixel centres)';
      return 'nearest';
    case 'area':
      return r.alignCorners ? 'area (align corners)' : 'area';
    case 'bicubic':
      return r.antialias ? 'bicubic (Keys a = −0.5, antialiased)' : 'bicubic (Keys a = −0.5, not antialiased)';
    case 'lanczos3':
      return r.antialias ? 'Lanczos3 (antialiased)' : 'Lanczos3 (not antialiased)';
  }
}

export function describeFit(fit: PreprocessSpec['fit']): string {
  return fit === 'center-crop' ? 'center crop' : fit === 'letterbox' ? 'letterbox' : 'stretch';
}

export function percent(x: number): string {
  const p = x * 100;
  return p >= 10 ? `${Math.round(p)}%` : p >= 1 ? `${p.toFixed(1)}%` : `${p.toPrecision(2)}%`;
}
