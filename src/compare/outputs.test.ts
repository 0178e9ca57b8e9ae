import { describe, expect, it } from 'vitest';
import { compareTraces } from './compare.ts';
import { formatComparisonTable } from './format.ts';
import { makeTrace, randn } from './synthetic.ts';

const node = { name: 'n', op: 'Relu', outputs: [{ shape: [4], data: new Float32Array([1, 2, 3, 4]) }] };
const pair = (name: string, shape: number[], ref: Float32Array, edge: Float32Array) => ({
  edge: makeTrace({ nodes: [node], outputs: [{ name, shape, data: edge }] }),
  ref: makeTrace({ nodes: [node], outputs: [{ name, shape, data: ref }] }),
});

describe('compareTraces: final outputs get the measure of their kind', () => {
  it('a no-card embedding: cosine, labelled a guess, never top-1 (issue 12 item 9)', () => {
    const ref = randn(1024, 3);
    const noise = randn(1024, 4, 1e-4);
    const edge = ref.map((v, i) => v + (noise[i] as number));
    const { edge: e, ref: f } = pair('global_pooling/Mean', [1, 1024], ref, edge);
    const c = compareTraces(e, f);
    const out = c.outputs.tensors[0]!;
    expect(out.topK).toBeNull();
    expect(c.outputs.top1Equal).toBeNull();
    expect(out.kind).toMatchObject({ kind: 'embedding', source: 'guess' });
    expect(out.measure).toEqual({ kind: 'embedding', cosine: out.metrics!.cosine });
    expect(out.measureText).toMatch(/^embedding \(guess\): cosine 1-\de-\d+$/);
    expect(c.summary).toContain(`; global_pooling/Mean: ${out.measureText}`);
    expect(formatComparisonTable(c)).toContain(`outputs:         ok; global_pooling/Mean: ${out.measureText}`);
    // Plain JSON: what `compare --json` prints.
    expect(JSON.parse(JSON.stringify(c.outputs.tensors[0]))).toMatchObject({ kind: out.kind, measure: out.measure, measureText: out.measureText });
  });

  it('the card\'s kinds win over the guess (matched with or without ":0"); its activation decides top-k probabilities', () => {
    // Boxes [ymin, xmin, ymax, xmax] whose edge rows come out in another order.
    const ref = new Float32Array([0.1, 0.1, 0.5, 0.5, 0.2, 0.6, 0.4, 0.9]);
    const edge = new Float32Array([0.2, 0.6, 0.4, 0.9, 0.1, 0.1, 0.5, 0.55]);
    const { edge: e, ref: f } = pair('boxes:0', [1, 2, 4], ref, edge);
    const c = compareTraces(e, f, { outputKinds: { boxes: { kind: 'boxes', boxes: { format: 'yxyx', units: 'normalized' } } } });
    const m = c.outputs.tensors[0]!.measure;
    expect(c.outputs.tensors[0]!.kind).toMatchObject({ kind: 'boxes', source: 'given', why: 'card' });
    expect(m).toMatchObject({ kind: 'boxes', decoded: true, refBoxes: 2, matched: 2, });
    if (m?.kind !== 'boxes') throw new Error('expected boxes');
    // The second reference box against its edge box 0.05 narrower: IoU 0.4·0.4 / (0.4·0.45) (float32 inputs).
    expect(m.minIoU).toBeCloseTo((0.4 * 0.4) / (0.4 * 0.45), 6);
    expect(c.outputs.tensors[0]!.measureText).toMatch(/^boxes: mean IoU 0\.9444 \(min 0\.8889\) over 2 boxes, 2 matched$/);
    // Scores in [0, 1] that the card says are logits: top-k probabilities are a softmax, not the values.
    const s = pair('logits', [1, 3], new Float32Array([0.2, 0.9, 0.1]), new Float32Array([0.2, 0.9, 0.1]));
    const t = compareTraces(s.edge, s.ref, { outputKinds: { logits: { kind: 'scores', activation: 'none' } } }).outputs.tensors[0]!.topK!;
    expect(t.valueKind).toBe('logits');
    expect(t.ref[0]!.probability).toBeCloseTo(Math.exp(0.9) / (Math.exp(0.2) + Math.exp(0.9) + Math.exp(0.1)), 6);
  });

  it('an output the card leaves out of its classifier outputs is not guessed to be class scores', () => {
    const probs = new Float32Array([0.7, 0.2, 0.1]);
    const { edge, ref } = pair('p', [1, 3], probs, probs);
    expect(compareTraces(edge, ref).outputs.tensors[0]!.kind).toMatchObject({ kind: 'scores', source: 'guess', why: '[1,3] sums to 1' });
    const c = compareTraces(edge, ref, { classifierOutputs: ['other'] });
    expect(c.outputs.tensors[0]).toMatchObject({ topK: null, measure: null, kind: { kind: 'other', source: 'guess' } });
    expect(c.outputs.tensors[0]!.measureText).toBe('other (guess): compared as a tensor: cosine 1, max |diff| 0');
    expect(c.outputs.top1Equal).toBeNull();
  });
});
