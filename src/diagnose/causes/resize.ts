/**
 * `resize`: another resize method or fit than the card's (nearest vs bilinear, align-corners vs
 * half-pixel centres, area, bicubic, Lanczos3, antialias; center crop vs stretch vs letterbox), or
 * another input size. Evidence: at model resolution, with geometry and channels fixed, the variant
 * that leaves the smallest residual, clearly below the card's; methods almost as good are named with
 * it, and so is the software known to resize that way (sharp, PIL, OpenCV, TF, canvas drawImage).
 */
import { fineSignificant, resizeKey, type InputSearch } from '../input-search.ts';
import { sig } from '../fit.ts';
import type { Cause, ResizeChoice } from '../types.ts';
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
  const close = sameMethod ? [] : closeRunnersUp(s);
  const also = close.length ? `; ${close.map((r) => `${describeResize(r.resize)} fits almost as well (${sig(r.levels)} vs ${sig(a.bestScore)} levels rms)`).join(', ')}` : '';
  const hint = sameMethod ? undefined : softwareHint(got, a.bestScore);
  return {
    code: 'resize',
    confidence: ratioConfidence(a.bestScore, a.expectedScore, 0.3),
    detail: `resized with ${parts.join(', ')}${hint ? ` (${hint})` : ''}${also}`,
    evidence: {
      ...(close.length ? { alsoFits: close.map((r) => `${resizeKey(r.resize)}: ${sig(r.levels)}`).join(', ') } : {}),
      ...(hint ? { consistentWith: hint } : {}),
      method: resizeKey(got),
      fit: got.fit,
      expectedMethod: resizeKey(want),
      expectedFit: want.fit,
      residualLevels: sig(a.bestScore),
      residualLevelsAsExpected: sig(a.expectedScore),
    },
  };
}

/**
 * Other resize methods (same fit) whose residual is within 10% + 0.05 levels of the best: at large
 * downscale factors the antialiased kernels (bicubic, Lanczos3, area, antialiased bilinear) differ by
 * fractions of a level, and the call between them is then named as uncertain.
 */
function closeRunnersUp(s: InputSearch): { resize: ResizeChoice; levels: number }[] {
  const best = s.best.resize;
  const bestLevels = s.fine.resize.bestScore;
  return s.fine.resizeScores
    .filter((r) => r.resize.fit === best.fit && resizeKey(r.resize) !== resizeKey(best) && r.levels <= bestLevels * 1.1 + 0.05)
    .sort((x, y) => x.levels - y.levels)
    .slice(0, 2);
}

/**
 * Who resizes this way by default: a hint for finding the step in the edge's code, not evidence.
 * Canvas entries were measured in Chromium (test/fixtures/canvas-resize, docs/diagnose.md).
 */
const SOFTWARE: Record<string, string> = {
  bilinear: 'as tf.image.resizeBilinear does by default',
  'bilinear+hpc': "as tf.image.resize (TF2), OpenCV INTER_LINEAR, PyTorch align_corners=False and canvas drawImage with imageSmoothingQuality 'low' (below a 2× downscale) do",
  'canvas-low': "as Chromium's canvas drawImage with imageSmoothingQuality 'low' (the default) does: a bilinear pre-scale to the mip level at or above the target, then bilinear ('medium'/'high' come close at small factors)",
  'bilinear+ac': 'as tf.image.resizeBilinear(…, alignCorners=true) does',
  'bilinear+aa': 'as PIL BILINEAR and tf.image.resize(…, antialias=True) do; sharp mitchell is close',
  nearest: 'as tf.image.resizeNearestNeighbor does by default',
  'nearest+hpc': 'as canvas drawImage with imageSmoothingEnabled = false does',
  area: 'as OpenCV INTER_AREA and tf.image.resize(…, "area") do',
  bicubic: 'as tf.image.resize(…, "bicubic") does; OpenCV INTER_CUBIC is close (a = −0.75)',
  'bicubic+aa': "as PIL BICUBIC and sharp kernel 'cubic' do",
  lanczos3: 'as tf.image.resize(…, "lanczos3") does',
  'lanczos3+aa': "as sharp's default (kernel 'lanczos3') and PIL LANCZOS do",
};

/**
 * Chromium's canvas drawImage with imageSmoothingQuality 'medium' or 'high' (the same pixels in
 * Chromium 156) downscales through mipmaps (a 2× box pyramid, then bilinear), which no method here
 * reproduces: the nearest smoothing filter is found with 1–4 levels rms left
 * (test/fixtures/canvas-resize). Our own resamplers leave less than this against each other's exact
 * output plus decoder noise, so a smoothing filter with more left is named with the canvas.
 */
const SMOOTH_KEYS = new Set(['bilinear+aa', 'area', 'bicubic+aa']);
export const CANVAS_MIPMAP_MIN_LEVELS = 0.8;

function softwareHint(r: ResizeChoice, levels: number): string | undefined {
  const key = resizeKey(r);
  const base = SOFTWARE[key];
  if (!SMOOTH_KEYS.has(key) || levels < CANVAS_MIPMAP_MIN_LEVELS) return base;
  const canvas = `consistent with canvas drawImage with imageSmoothingQuality 'medium' or 'high' (Chromium's mipmaps, not modelled: ${sig(levels)} levels rms remain)`;
  return base ? `${base}; ${canvas}` : canvas;
}
