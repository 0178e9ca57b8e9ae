import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctcGreedyDecode, ctcGreedyDecodeBatch, paddleOcrLabels } from './ctc.ts';

/** One-hot-ish scores: at each step the given class gets `p`, the rest share 1 − p. */
function scores(classes: number[], C: number, p = 0.9): Float32Array {
  const out = new Float32Array(classes.length * C).fill((1 - p) / (C - 1));
  classes.forEach((c, t) => (out[t * C + c] = p));
  return out;
}

describe('paddleOcrLabels', () => {
  it('puts the blank first and the space last, without an empty entry for a final newline', () => {
    expect(paddleOcrLabels('a\nb\nc')).toEqual(['<blank>', 'a', 'b', 'c', ' ']);
    expect(paddleOcrLabels('a\r\nb\r\n')).toEqual(['<blank>', 'a', 'b', ' ']);
    expect(paddleOcrLabels('', '')).toEqual(['', ' ']);
  });

  it('gives the 6625 classes of the PP-OCRv4 recogniser from the package dictionary', () => {
    const dict = readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ppocr_keys_v1.txt'), 'utf8');
    const labels = paddleOcrLabels(dict);
    expect(labels).toHaveLength(6625);
    expect(new Set(labels).size).toBe(6625);
    expect(labels[labels.length - 1]).toBe(' ');
  });
});

describe('ctcGreedyDecode', () => {
  const labels = ['<blank>', 'a', 'b', 'l', 'o', ' '];

  it('merges repeats, keeps a repeat separated by a blank, drops blanks', () => {
    // b l l o o _ o → "blo" + "o": "bloo"
    const r = ctcGreedyDecode(scores([2, 3, 3, 4, 4, 0, 4], labels.length), labels);
    expect(r.text).toBe('bloo');
    expect(r.classes).toEqual([2, 3, 4, 4]);
    expect(r.confidence).toBeCloseTo(0.9, 6);
  });

  it('returns empty text and NaN confidence for all blanks', () => {
    const r = ctcGreedyDecode(scores([0, 0, 0], labels.length), labels);
    expect(r.text).toBe('');
    expect(r.confidence).toBeNaN();
  });

  it('decodes each row of a batch and checks the class count', () => {
    const C = labels.length;
    const two = new Float32Array([...scores([1, 0, 5, 2], C), ...scores([3, 3, 0, 0], C)]);
    expect(ctcGreedyDecodeBatch(two, [2, 4, C], labels).map((r) => r.text)).toEqual(['a b', 'l']);
    expect(ctcGreedyDecodeBatch(scores([1], C), [1, C], labels)[0]?.text).toBe('a');
    expect(() => ctcGreedyDecodeBatch(two, [2, 4, C + 1], labels)).toThrow(/classes but there are 6 labels/);
    expect(() => ctcGreedyDecodeBatch(two, [3, 4, C], labels)).toThrow(/needs/);
    expect(() => ctcGreedyDecode(new Float32Array(7), labels)).toThrow(/whole number of steps/);
  });
});
