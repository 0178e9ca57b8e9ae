/**
 * `decoder`: the edge decoded the JPEG with another decoder than the reference. JPEG leaves decoders
 * freedom: chroma upsampling (libjpeg-turbo's default "fancy" triangle filter, browsers' choices, or
 * plain pixel replication as pure-JS decoders such as jpeg-js — TF.js React Native's decodeJpeg — do)
 * and the inverse DCT (integer slow/fast, float, each rounding its own way). What is left between the
 * edge input and the best explanation of it is then small, a level or two rms, and it has a shape:
 * upsampling differences are chroma only (no luma) and sit on colour edges; IDCT differences are
 * spread over all channels, a little stronger on the 8×8 block boundaries.
 *
 * Never a deployment bug on its own: it is reported as information (Diagnosis.info), and named as
 * the cause only when the outputs break the model's tolerance and nothing else explains it
 * (diagnose.ts). Evidence is measured at the model's resolution: the photo's chroma-edge strength and
 * its block grid are taken through the same orientation, fit and resize as the pixels, so each model
 * pixel knows how much chroma edge and block boundary it was made of.
 */
import type { RgbaImage } from '../../preprocess/image.ts';
import { rebuildBest, throughBest, type Rebuilt } from '../candidate.ts';
import { sig } from '../fit.ts';
import { modelPlanes, type InputSearch, type InputSearchArgs } from '../input-search.ts';
import type { Cause, DecoderEvidence } from '../types.ts';

/** Below this rms (pixel levels) the two decodes are the same decoder (or differ by rounding only). */
export const DECODER_MIN_LEVELS = 0.2;
/**
 * The model's tolerance for its input, which a decoder difference must break to be named the cause:
 * a classifier's top-1 changed, or (other outputs) an output nrmse above 5%. The float32 comparison
 * preset flags any input difference (its thresholds are for backend precision, ~1e-5): another
 * decoder on the sample models moves the outputs by nrmse 0.007–0.03 with the task result unchanged.
 */
export const DECODER_OUTPUT_NRMSE = 0.05;

/** Whether a decoder difference alone broke the model's tolerance (see DECODER_OUTPUT_NRMSE). */
export function breaksTolerance(top1Equal: boolean | null, outputNrmse: number | null): boolean {
  return top1Equal === false || (top1Equal === null && (outputNrmse ?? 0) > DECODER_OUTPUT_NRMSE);
}

/** Share of the top-10% chroma-edge pixels in the remainder's energy from which it "sits on chroma edges" (even: 0.1). */
const CHROMA_EDGE_SHARE = 0.25;
/** Largest luma share for a chroma-only (upsampling) difference (evenly spread RGB noise: ≈0.35). */
const CHROMA_ONLY_LUMA = 0.25;
/** Energy ratio on/off the 8×8 block boundaries from which the remainder has a block pattern. */
const BLOCK_RATIO = 1.3;

export function isJpeg(mimeType: string | undefined): boolean {
  return mimeType === 'image/jpeg' || mimeType === 'image/jpg' || mimeType === 'image/pjpeg';
}

/**
 * The photo's chroma-edge strength (R: |∇Cb| + |∇Cr|, clamped to 255) and its 8×8 block grid
 * (G: 255 on the two pixels either side of every block boundary), as an image the pipeline can resize.
 */
function featureImage(img: RgbaImage): RgbaImage {
  const { width: w, height: h, data: src } = img;
  const n = w * h;
  const cb = new Float32Array(n);
  const cr = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = src[4 * i] as number;
    const g = src[4 * i + 1] as number;
    const b = src[4 * i + 2] as number;
    cb[i] = -0.168736 * r - 0.331264 * g + 0.5 * b;
    cr[i] = 0.5 * r - 0.418688 * g - 0.081312 * b;
  }
  const out = new Uint8ClampedArray(n * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const right = x + 1 < w ? i + 1 : i;
      const down = y + 1 < h ? i + w : i;
      const e =
        Math.abs((cb[right] as number) - (cb[i] as number)) +
        Math.abs((cb[down] as number) - (cb[i] as number)) +
        Math.abs((cr[right] as number) - (cr[i] as number)) +
        Math.abs((cr[down] as number) - (cr[i] as number));
      const bx = x & 7;
      const by = y & 7;
      out[4 * i] = e;
      out[4 * i + 1] = bx === 0 || bx === 7 || by === 0 || by === 7 ? 255 : 0;
      out[4 * i + 3] = 255;
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * What remains of the edge input after the best explanation, when the photo is a JPEG: its size and
 * where it sits. Null when the photo is not a JPEG, the explanation is not exact enough to leave a
 * decoder's difference (`explained` false), or nothing beyond rounding remains.
 */
export function decoderEvidence(args: InputSearchArgs, s: InputSearch, explained: boolean, rebuilt?: Rebuilt): DecoderEvidence | null {
  if (!isJpeg(args.mimeType) || !explained) return null;
  const { rgb, edge } = rebuilt ?? rebuildBest(args, s);
  const cand = modelPlanes(rgb, s.spec, s.best.channels);
  const { width: W, height: H, channels: C } = s.geometry;
  const n = W * H;
  const r = new Float32Array(C * n);
  let sum = 0;
  let max = 0;
  for (let c = 0; c < C; c++) {
    const a = s.best.affine.scale[c] ?? 0;
    if (!(Math.abs(a) > 1e-12)) return null;
    const b = s.best.affine.offset[c] ?? 0;
    for (let i = 0; i < n; i++) {
      const d = ((edge.data[c * n + i] as number) - b) / a - (cand.data[c * n + i] as number);
      r[c * n + i] = d;
      sum += d * d;
      max = Math.max(max, Math.abs(d));
    }
  }
  const levels = Math.sqrt(sum / (C * n));
  if (!(levels >= DECODER_MIN_LEVELS)) return null;

  // Energy per pixel (all channels) and, for colour models, its luma part.
  const energy = new Float64Array(n);
  let lumaShare: number | null = null;
  if (C === 3) {
    const src = s.best.channels;
    const at = (k: number): number => src.indexOf(k);
    const [iR, iG, iB] = [at(0), at(1), at(2)];
    let ey = 0;
    let ec = 0;
    for (let i = 0; i < n; i++) {
      const R = r[iR * n + i] as number;
      const G = r[iG * n + i] as number;
      const B = r[iB * n + i] as number;
      const Y = 0.299 * R + 0.587 * G + 0.114 * B;
      const Cb = -0.168736 * R - 0.331264 * G + 0.5 * B;
      const Cr = 0.5 * R - 0.418688 * G - 0.081312 * B;
      ey += Y * Y;
      ec += Cb * Cb + Cr * Cr;
      energy[i] = R * R + G * G + B * B;
    }
    lumaShare = ey + ec > 0 ? ey / (ey + ec) : null;
  } else {
    for (let i = 0; i < n; i++) energy[i] = (r[i] as number) ** 2;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += energy[i] as number;

  const f = throughBest(featureImage(args.image), s, 'ignore');
  const edgeF = f.data.subarray(0, n);
  const blockF = f.data.subarray(n, 2 * n);
  // The 10% of pixels made of the strongest chroma edges (none in a gray photo).
  let chromaEdgeShare: number | null = null;
  let maxEdge = 0;
  for (let i = 0; i < n; i++) maxEdge = Math.max(maxEdge, edgeF[i] as number);
  if (maxEdge > 0 && total > 0) {
    // The 90th percentile from a numeric typed-array sort (far cheaper than sorting indices); pixels
    // tied at it count in proportion, so the set is exactly 10% of the pixels.
    const top = Math.max(1, Math.ceil(0.1 * n));
    const thr = Float32Array.from(edgeF).sort()[n - top] as number;
    let above = 0;
    let countAbove = 0;
    let at = 0;
    let countAt = 0;
    for (let i = 0; i < n; i++) {
      const v = edgeF[i] as number;
      if (v > thr) {
        above += energy[i] as number;
        countAbove++;
      } else if (v === thr) {
        at += energy[i] as number;
        countAt++;
      }
    }
    chromaEdgeShare = (above + (countAt > 0 ? (at * (top - countAbove)) / countAt : 0)) / total;
  }
  // Block grid: a soft weight per pixel (share of boundary pixels in its footprint). Resizes that
  // average many source pixels leave ~7/16 everywhere: no pattern left to see.
  let blockRatio: number | null = null;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (blockF[i] as number) / 255;
  mean /= n;
  let varW = 0;
  for (let i = 0; i < n; i++) varW += ((blockF[i] as number) / 255 - mean) ** 2;
  if (Math.sqrt(varW / n) >= 0.15 && total > 0) {
    let on = 0;
    let onW = 0;
    let off = 0;
    let offW = 0;
    for (let i = 0; i < n; i++) {
      const g = (blockF[i] as number) / 255;
      on += g * (energy[i] as number);
      onW += g;
      off += (1 - g) * (energy[i] as number);
      offW += 1 - g;
    }
    blockRatio = onW > 0 && offW > 0 && off > 0 ? on / onW / (off / offW) : null;
  }
  const chromaOnly = lumaShare === null || lumaShare < CHROMA_ONLY_LUMA;
  const where: DecoderEvidence['where'] =
    chromaEdgeShare !== null && chromaEdgeShare >= CHROMA_EDGE_SHARE && chromaOnly ? 'chroma-edges' : blockRatio !== null && blockRatio >= BLOCK_RATIO ? 'block-boundaries' : 'spread';
  return { levels: sig(levels), maxLevels: sig(max), lumaShare: lumaShare === null ? null : sig(lumaShare), chromaEdgeShare: chromaEdgeShare === null ? null : sig(chromaEdgeShare), blockRatio: blockRatio === null ? null : sig(blockRatio), where };
}

const WHERE: Record<DecoderEvidence['where'], string> = {
  'chroma-edges': 'concentrated on chroma edges, colour only: chroma upsampling (e.g. libjpeg-turbo\'s fancy upsampling vs pixel replication)',
  'block-boundaries': 'strongest on the 8×8 block boundaries: a different inverse DCT',
  spread: 'spread over the image: inverse-DCT rounding',
};

const WHERE_SHORT: Record<DecoderEvidence['where'], string> = { 'chroma-edges': 'on chroma edges', 'block-boundaries': 'on 8×8 block boundaries', spread: 'spread out' };

/** A few words for the clean verdict: "a different JPEG decoder (0.93 levels rms, on chroma edges)". */
export function decoderShort(ev: DecoderEvidence): string {
  return `a different JPEG decoder (${sig(ev.levels)} levels rms, ${WHERE_SHORT[ev.where]})`;
}

/**
 * The finding in cause form. `breaks`: the outputs are beyond the model's tolerance and nothing else
 * explains it (then it is the cause); otherwise it is information.
 */
export function decoderCause(ev: DecoderEvidence, breaks: boolean, outputNrmse: number | null): Cause {
  const size = `${sig(ev.levels)} levels rms (max ${sig(ev.maxLevels)})`;
  const effect = breaks
    ? `, enough to change the model's result${outputNrmse !== null ? ` (output nrmse ${sig(outputNrmse)})` : ''}: decode with the reference's decoder on the edge, or widen the tolerance`
    : ", within the model's tolerance (result unchanged): not a bug";
  // How sure that a decoder, not something else small, left it: a recognised pattern says decoder.
  const confidence = ev.where === 'spread' ? 0.5 : 0.8;
  return {
    code: 'decoder',
    confidence,
    detail: `the JPEG was decoded by another decoder than the reference's: ${size}, ${WHERE[ev.where]}${effect}`,
    evidence: {
      levels: ev.levels,
      maxLevels: ev.maxLevels,
      lumaShare: ev.lumaShare,
      chromaEdgeShare: ev.chromaEdgeShare,
      blockRatio: ev.blockRatio,
      where: ev.where,
    },
  };
}
