import { describe, expect, it } from 'vitest';
import { tensorMetrics } from './metrics.ts';
import { guessOutputKind, type OutputKindInfo } from './output-kind.ts';
import { boxAgreement, iou, keypointAgreement, maskIoU, outputMeasure } from './output-measure.ts';
import { outputMeasureText } from './output-text.ts';
import { rng } from './synthetic.ts';
import { topKAgreement } from './topk.ts';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

function softmax(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

describe('guessOutputKind', () => {
  const r = rng(7);
  it('a distribution is class scores; a long vector that is not one is an embedding', () => {
    const probs = f32(softmax(Array.from({ length: 1000 }, () => r() * 4)));
    expect(guessOutputKind([1, 1000], probs)).toMatchObject({ kind: 'scores', source: 'guess', activation: 'softmax', why: '[1,1000] sums to 1' });
    // ImageNet-sized logits stay scores; other long vectors (a pooled face embedding) are embeddings.
    const logits = f32(Array.from({ length: 1001 }, () => r() * 8 - 4));
    expect(guessOutputKind([1, 1001], logits)).toMatchObject({ kind: 'scores', activation: 'none' });
    const emb = f32(Array.from({ length: 1024 }, () => r() * 2 - 1));
    expect(guessOutputKind([1, 1024], emb)).toMatchObject({ kind: 'embedding', why: '[1,1024]: 1024 values that do not sum to 1' });
    // A ReLU-pooled embedding (non-negative, many exact zeros) is not mistaken for flat keypoints.
    const relu = f32(Array.from({ length: 1536 }, () => Math.max(0, r() * 2 - 1)));
    expect(guessOutputKind([1, 1536], relu).kind).toBe('embedding');
    // Short logits: class scores; labels of the right length: class scores.
    expect(guessOutputKind([1, 5], f32([2, -1, 0.5, 3, -2])).kind).toBe('scores');
    expect(guessOutputKind([1, 128], emb.slice(0, 128), Array.from({ length: 128 }, (_, i) => `c${i}`)).kind).toBe('scores');
  });

  it('points: [1,1,17,3] in 0..1 and a flat 468·3 mesh in pixels are keypoints', () => {
    const pose = f32(Array.from({ length: 51 }, (_, i) => (i % 3 === 2 ? r() : 0.3 + 0.4 * r())));
    expect(guessOutputKind([1, 1, 17, 3], pose)).toMatchObject({ kind: 'keypoints', why: '[1,1,17,3]: 17 points × 3, coordinates in 0..1' });
    const mesh = f32(Array.from({ length: 1404 }, (_, i) => (i % 3 === 2 ? r() * 20 - 10 : 60 + 70 * r())));
    expect(guessOutputKind([1, 1404], mesh)).toMatchObject({ kind: 'keypoints', keypoints: { components: ['x', 'y', 'other'] } });
  });

  it('image-like maps are masks (1–2 channels) or images; ordered corner rows are boxes; one value is a regression', () => {
    expect(guessOutputKind([1, 1, 64, 48], new Float32Array(64 * 48).fill(0.2)).kind).toBe('mask');
    expect(guessOutputKind([1, 32, 32, 3], new Float32Array(32 * 32 * 3).fill(0.2)).kind).toBe('image');
    const boxes = f32([0.1, 0.2, 0.5, 0.6, 0, 0, 0, 0, 0.3, 0.3, 0.9, 0.8]);
    expect(guessOutputKind([1, 3, 4], boxes)).toMatchObject({ kind: 'boxes', boxes: { format: 'xyxy' } });
    expect(guessOutputKind([1, 3, 4], f32([0.5, 0.6, 0.1, 0.2, 0.9, 0.8, 0.3, 0.3, 1, 1, 0, 0])).kind).toBe('other');
    expect(guessOutputKind([1, 1], f32([0.93]))).toMatchObject({ kind: 'regression', why: '[1,1]: one value' });
    expect(guessOutputKind([2, 7, 9], new Float32Array(126)).kind).toBe('other');
  });
});

describe('measures', () => {
  it('iou and box agreement: matched one-to-one whatever the row order, unmatched boxes count 0', () => {
    expect(iou([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 12);
    expect(iou([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
    // yxyx, rows swapped on the edge, the second box shifted by 0.1 of its width.
    const ref = f32([0, 0, 1, 1, 0.5, 0.5, 1.5, 1.5, 5, 5, 6, 6]);
    const edge = f32([0.5, 0.6, 1.5, 1.6, 0, 0, 1, 1, 0, 0, 0, 0]);
    const m = boxAgreement(edge, ref, { format: 'yxyx' }, 4);
    expect(m).toMatchObject({ decoded: true, refBoxes: 3, edgeBoxes: 2, matched: 2, matching: 'iou', minIoU: 0 });
    const shifted = 0.9 / 1.1;
    expect(m.meanIoU).toBeCloseTo((1 + shifted + 0) / 3, 6);
    // Rows of 6 with the box at offset 0 (centernet), and centre-size boxes.
    const row6 = boxAgreement(f32([0, 0, 2, 2, 0.9, 3]), f32([0, 0, 2, 2, 0.8, 3]), { format: 'xyxy', stride: 6 }, 6);
    expect(row6.meanIoU).toBe(1);
    const cxcy = boxAgreement(f32([1, 1, 2, 2]), f32([1.5, 1, 2, 2]), { format: 'cxcywh' }, 4);
    expect(cxcy.meanIoU).toBeCloseTo(1.5 / 2.5, 6);
  });

  it('keypoint distances in output units and in input pixels', () => {
    const ref = f32([0.5, 0.5, 0.9, 0.2, 0.2, 0.8]);
    const edge = f32([0.5, 0.53, 0.1, 0.24, 0.2, 0.8]); // y, x, score
    const m = keypointAgreement(edge, ref, { components: ['y', 'x', 'score'], units: 'normalized', width: 200, height: 100 });
    expect(m.points).toBe(2);
    expect(m.meanDistance).toBeCloseTo(0.035, 6);
    expect(m.maxDistance).toBeCloseTo(0.04, 6);
    expect(m.worstPoint).toBe(1);
    // x is scaled by the width (200), y by the height (100): 0.03·200 = 6 px, 0.04·100 = 4 px.
    expect(m.pixels?.meanDistance).toBeCloseTo(5, 4);
    expect(m.pixels?.maxDistance).toBeCloseTo(6, 4);
    expect(keypointAgreement(edge, ref, { components: ['y', 'x', 'score'] }).pixels).toBeNull();
    // A NaN coordinate is counted and named the worst point, never hidden; the distances stay finite (JSON).
    const nan = keypointAgreement(f32([0, 0, NaN, 0, 3, 4]), f32([0, 0, 0, 0, 0, 0]), { components: ['x', 'y'] });
    expect(nan).toMatchObject({ points: 3, nonFinite: 1, worstPoint: 1, meanDistance: 2.5, maxDistance: 5 });
    expect(outputMeasureText({ kind: 'keypoints', source: 'given', why: 'card' }, nan, null)).toBe('keypoints: 3 points, mean distance 2.5, max 5, 1 with NaN/Inf (#1)');
  });

  it('mask: PSNR over a probability map (peak 1) and IoU at 0.5; image: PSNR with peak 255', () => {
    const ref = new Float32Array(100);
    for (let i = 0; i < 40; i++) ref[i] = 0.9;
    const edge = ref.slice();
    for (let i = 30; i < 50; i++) edge[i] = 0.9; // 10 more foreground pixels
    const m = tensorMetrics(edge, ref);
    const mask = outputMeasure({ kind: 'mask' }, [1, 10, 10, 1], edge, ref, m, null);
    expect(mask).toMatchObject({ kind: 'mask', peak: 1, threshold: 0.5, iou: 40 / 50 });
    // rmse = sqrt(10 · 0.81 / 100) = 0.2846: PSNR = 20·log10(1 / 0.2846)
    expect(mask?.kind === 'mask' && mask.psnrDb).toBeCloseTo(20 * Math.log10(1 / Math.sqrt(0.081)), 6);
    expect(maskIoU(new Float32Array(4), new Float32Array(4), 0.5)).toBeNull();
    // Logits (the card says none): thresholded at 0.
    expect(outputMeasure({ kind: 'mask', activation: 'none' }, [1, 2, 2], f32([-1, 2, 3, -4]), f32([-1, 2, -3, -4]), tensorMetrics(f32([-1, 2, 3, -4]), f32([-1, 2, -3, -4])), null)).toMatchObject({ threshold: 0, iou: 0.5 });
    const img = f32([0, 128, 255, 64]);
    const img2 = f32([1, 128, 255, 64]);
    const im = outputMeasure({ kind: 'image' }, [1, 2, 2, 1], img2, img, tensorMetrics(img2, img), null);
    expect(im).toMatchObject({ kind: 'image', peak: 255, iou: null });
    expect(im?.kind === 'image' && im.psnrDb).toBeCloseTo(20 * Math.log10(255 / 0.5), 6);
    expect(outputMeasure({ kind: 'image' }, [4], img, img, tensorMetrics(img, img), null)).toMatchObject({ psnrDb: null });
    // A super-resolution output overshoots 0..255 before it is clipped: still peak 255; far outside, the range.
    const over = f32([-23, 128, 288, 64]);
    expect(outputMeasure({ kind: 'image' }, [4], over, over, tensorMetrics(over, over), null)).toMatchObject({ peak: 255 });
    const wide = f32([-200, 0, 400, 1]);
    expect(outputMeasure({ kind: 'image' }, [4], wide, wide, tensorMetrics(wide, wide), null)).toMatchObject({ peak: 600 });
  });

  it('embedding: cosine; regression: max / mean |diff|; audio: SNR; scores: top-k', () => {
    const a = f32([1, 2, 3, 4]);
    const b = f32([1, 2, 3, 4.4]);
    const m = tensorMetrics(b, a);
    expect(outputMeasure({ kind: 'embedding' }, [1, 4], b, a, m, null)).toEqual({ kind: 'embedding', cosine: m.cosine });
    expect(m.cosine).toBeLessThan(1);
    expect(outputMeasure({ kind: 'regression' }, [1, 4], b, a, m, null)).toMatchObject({ maxAbs: m.maxAbs, meanAbs: m.meanAbs });
    expect(m.maxAbs).toBeCloseTo(0.4, 6);
    expect(m.meanAbs).toBeCloseTo(0.1, 6);
    const snr = outputMeasure({ kind: 'audio' }, [4], b, a, m, null);
    expect(snr?.kind === 'audio' && snr.snrDb).toBeCloseTo(10 * Math.log10(30 / 0.16), 3);
    const t = topKAgreement(b, a, 2);
    expect(outputMeasure({ kind: 'scores' }, [1, 4], b, a, m, t)).toMatchObject({ kind: 'scores', classes: 4, k: 2, top1Equal: true, overlap: 2 });
    expect(outputMeasure({ kind: 'other' }, [4], b, a, m, null)).toBeNull();
  });

  it('text: the kind, "(guess)" for a guess, and the measure', () => {
    const emb = f32(Array.from({ length: 256 }, (_, i) => Math.sin(i)));
    const edge = emb.map((v, i) => v + (i === 3 ? 0.5 : 0));
    const m = tensorMetrics(edge, emb);
    const kind = guessOutputKind([1, 256], emb);
    const text = outputMeasureText(kind, outputMeasure(kind, [1, 256], edge, emb, m, null), m);
    expect(text).toBe(`embedding (guess): cosine ${m.cosine.toFixed(4)}`);
    const det: OutputKindInfo = { kind: 'boxes', source: 'given', why: 'card' };
    expect(outputMeasureText(det, outputMeasure(det, [1, 256], edge, emb, m, null), m)).toMatch(/^detection, no box layout in the card: compared as a tensor: cosine /);
  });
});
