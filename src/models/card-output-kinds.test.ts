import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExrayInputError } from '../errors.ts';
import { cardOutputKinds, parseModelCard } from './card-schema.ts';

type Json = Record<string, unknown> & { outputs: Record<string, unknown>[] };
const cardJson = (name: string): Json => JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'models', name, 'exray.json'), 'utf8')) as Json;

function problem(json: unknown): string {
  try {
    parseModelCard(json, 'exray.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ExrayInputError);
    return (e as ExrayInputError).problem;
  }
  throw new Error('expected the card to be refused');
}

describe('card outputs: kinds for the comparison', () => {
  it('maps meanings to kinds; normalized keypoints take the image input size; boxes keep their layout', () => {
    const movenet = cardOutputKinds(parseModelCard(cardJson('movenet-lightning'), 'exray.json'));
    expect(movenet).toEqual({ Identity: { kind: 'keypoints', keypoints: { components: ['y', 'x', 'score'], units: 'normalized', width: 192, height: 192 } } });
    const centernet = cardOutputKinds(parseModelCard(cardJson('centernet'), 'exray.json'));
    expect(centernet['tower_0/detections']).toEqual({ kind: 'boxes', boxes: { format: 'xyxy', units: 'pixels', stride: 6, offset: 0 } });
    // A heat-map marked detection without a box layout: boxes, not decoded.
    expect(centernet['tower_0/keypoints']).toEqual({ kind: 'boxes' });
    expect(centernet['tower_0/wh']).toEqual({ kind: 'regression' });
    expect(cardOutputKinds(parseModelCard(cardJson('ppocr-v4-det'), 'exray.json'))).toEqual({ 'sigmoid_0.tmp_0': { kind: 'mask', activation: 'sigmoid' } });
    expect(cardOutputKinds(parseModelCard(cardJson('emotion'), 'exray.json'))).toEqual({ Identity: { kind: 'scores', activation: 'softmax' } });
  });

  it('a card written before output kinds (no activation, boxes or keypoints) is still valid', () => {
    const old = cardJson('movenet-lightning');
    delete old.outputs[0]!['keypoints'];
    expect(cardOutputKinds(parseModelCard(old, 'exray.json'))).toEqual({ Identity: { kind: 'keypoints' } });
  });

  it('refuses layouts that do not fit the output, naming the field', () => {
    const a = cardJson('emotion');
    a.outputs[0]!['boxes'] = { format: 'xyxy', units: 'pixels' };
    expect(problem(a)).toBe('outputs[0].boxes is only meaningful for meaning "detection", not "classification"');
    const b = cardJson('centernet');
    (b.outputs[2]!['boxes'] as Record<string, unknown>)['offset'] = 3;
    expect(problem(b)).toBe('outputs[2].boxes needs 4 values from offset 3 in rows of 6');
    const k = cardJson('movenet-lightning');
    k.outputs[0]!['keypoints'] = { components: ['y', 'y', 'score'], units: 'normalized', width: 10 };
    expect(problem(k)).toBe('outputs[0].keypoints.components must name "x" exactly once; outputs[0].keypoints.components must name "y" exactly once; outputs[0].keypoints needs both width and height, or neither');
    const s = cardJson('movenet-lightning');
    s.outputs[0]!['activation'] = 'softmax';
    expect(problem(s)).toBe('outputs[0].activation is only meaningful for meaning "classification" or "mask", not "keypoints"');
    const u = cardJson('handtrack');
    u.outputs[3]!['boxes'] = { format: 'yxxy', units: 'normalized' };
    expect(problem(u)).toMatch(/^outputs\[3\]\.boxes\.format must be one of "xyxy", "yxyx", "xywh", "cxcywh", got the string "yxxy"$/);
  });
});
