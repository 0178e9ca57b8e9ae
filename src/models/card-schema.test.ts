import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExrayInputError } from '../errors.ts';
import { parseModelCard } from './card-schema.ts';

const vad = (): Record<string, unknown> & { inputs: Record<string, unknown>[] } =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'models', 'silero-vad-v5', 'exray.json'), 'utf8'));

function problem(json: unknown): string {
  try {
    parseModelCard(json, 'exray.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ExrayInputError);
    return (e as ExrayInputError).problem;
  }
  throw new Error('expected the card to be refused');
}

describe('card inputs[].fill', () => {
  it('is the default value of a tensor input (Silero: zero state, sr 16000)', () => {
    const card = parseModelCard(vad(), 'exray.json');
    expect(card.inputs.map((i) => [i.name, i.fill])).toEqual([
      ['input', undefined],
      ['state', 0],
      ['sr', 16000],
    ]);
  });

  it('must be an integer for an integer input, finite, and only on kind "tensor"', () => {
    const c = vad();
    c.inputs[2]!['fill'] = 16000.5;
    expect(problem(c)).toBe('inputs[2].fill must be an integer for dtype "int64", got 16000.5');
    const img = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'models', 'ppocr-v4-rec', 'exray.json'), 'utf8')) as { inputs: Record<string, unknown>[] };
    img.inputs[0]!['fill'] = 0;
    expect(problem(img)).toBe('inputs[0].fill is only allowed for kind "tensor"');
    const s = vad();
    s.inputs[1]!['fill'] = 'zeros';
    expect(problem(s)).toMatch(/^inputs\[1\]\.fill must be number/);
  });
});
