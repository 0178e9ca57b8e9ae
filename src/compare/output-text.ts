/**
 * Output kinds and their measures in words: the one-line summary of an output's agreement, its kind's
 * label, and which output's measure says most about the model's answer.
 *
 * Pure: no DOM, no Node (the page and the CLI share it).
 */

import type { TensorMetrics } from './metrics.ts';
import type { OutputKindInfo, OutputMeasure } from './output-kind.ts';

/** 4 significant digits, `1e-5` style below 1e-3. */
function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(1);
  return String(Number(x.toPrecision(4)));
}

/** Cosine with its distance from 1 visible: `0.9998`, `1-3e-7`. */
export function cosineText(c: number): string {
  if (c === 1) return '1';
  if (c > 0.9999) return `1-${(1 - c).toExponential(0)}`;
  return c.toFixed(4);
}

/** `embedding (guess)`, `scores`, `mask (guess, sigmoid)`. */
export function kindLabel(k: OutputKindInfo): string {
  const name = k.kind === 'boxes' && !k.boxes ? 'detection' : k.kind;
  return k.source === 'guess' ? `${name} (guess)` : name;
}

/**
 * One line: `embedding (guess): cosine 0.9998`, `keypoints: mean 0.0012, max 0.0031 (0.23 / 0.6 px)`,
 * `detection, no box layout in the card: compared as a tensor: cosine 1-2e-7, …`. `metrics` fills in for kinds
 * without their own measure (other, undecoded boxes).
 */
export function outputMeasureText(k: OutputKindInfo, m: OutputMeasure | null, metrics: TensorMetrics | null): string {
  const asTensor = metrics ? `compared as a tensor: cosine ${cosineText(metrics.cosine)}, max |diff| ${num(metrics.maxAbs)}` : 'not compared';
  const head = kindLabel(k);
  if (!m) return `${head}: ${asTensor}`;
  switch (m.kind) {
    case 'scores':
      if (m.classes === 1) return `${head}: one score, |diff| ${num(m.maxAbs)}`;
      return `${head}: top-1 ${m.top1Equal ? 'agrees' : 'DIFFERS'}, top-${m.k} overlap ${m.overlap}/${m.k}`;
    case 'keypoints': {
      const px = m.pixels ? ` (${num(m.pixels.meanDistance)} / ${num(m.pixels.maxDistance)} px)` : '';
      const nan = m.nonFinite > 0 ? `, ${m.nonFinite} with NaN/Inf (#${m.worstPoint})` : '';
      return `${head}: ${m.points} points, mean distance ${num(m.meanDistance)}, max ${num(m.maxDistance)}${m.nonFinite > 0 ? '' : ` (#${m.worstPoint})`}${px}${nan}`;
    }
    case 'boxes':
      if (!m.decoded) return `${head}, no box layout in the card: ${asTensor}`;
      if (m.meanIoU === null) return `${head}: no reference box with an area (${m.edgeBoxes} on the edge)`;
      return `${head}: mean IoU ${num(m.meanIoU)} (min ${num(m.minIoU ?? 0)}) over ${m.refBoxes} boxes, ${m.matched} matched`;
    case 'embedding':
      return `${head}: cosine ${cosineText(m.cosine)}`;
    case 'mask':
    case 'image': {
      const psnr = `PSNR ${m.psnrDb === null ? 'inf' : num(m.psnrDb)} dB`;
      if (m.kind === 'image') return `${head}: ${psnr}`;
      return `${head}: ${psnr}, IoU@${m.threshold ?? 0.5} ${m.iou === null ? '– (no foreground)' : num(m.iou)}`;
    }
    case 'regression':
      return `${head}: max |diff| ${num(m.maxAbs)}, mean ${num(m.meanAbs)}`;
    case 'audio':
      return `${head}: SNR ${m.snrDb === null ? (metrics?.identical ? 'inf' : '-inf') : num(m.snrDb)} dB`;
  }
}

/**
 * How much an output's measure says about the model's answer, for picking the one to summarise: decoded
 * keypoints, boxes, embeddings, masks, images and audio first, then regressions, then outputs compared
 * only as tensors (undecoded detections, other). Lower is more telling; scores are summarised by top-1.
 */
export function measureRank(k: OutputKindInfo, m: OutputMeasure | null): number {
  if (!m) return 3;
  if (m.kind === 'boxes' && !m.decoded) return 3;
  if (m.kind === 'regression') return 2;
  if (m.kind === 'scores') return 0;
  return k.source === 'given' ? 0 : 1;
}
