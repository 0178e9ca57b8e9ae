import { describe, expect, it } from 'vitest';
import { makeTrace } from '../compare/synthetic.ts';
import type { PreprocessSpec, Trace } from '../trace/types.ts';
import { BUILTIN_ASSERTIONS, defineAssertion, failedAssertions, runAssertions, specValueRange } from './assertions.ts';

const SPEC: PreprocessSpec = {
  width: 4,
  height: 4,
  resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: false, antialias: false },
  fit: 'stretch',
  channels: 'rgb',
  layout: 'nhwc',
  scale: 1 / 127.5,
  mean: [1],
  std: [1],
  dtype: 'float32',
  exif: 'apply',
  alpha: 'ignore',
};

function trace(input: Float32Array, probs: Float32Array, opts: { nan?: boolean } = {}): Trace {
  const t = makeTrace({
    inputs: [{ name: 'x', shape: [1, 4, 4, 3], data: input }],
    nodes: [
      { name: 'conv', op: 'Conv2D', outputs: [{ shape: [1, 3], data: Float32Array.from([1, opts.nan ? Number.NaN : 2, 3]) }] },
      { name: 'probs', op: 'Softmax', outputs: [{ shape: [1, probs.length], data: probs }] },
    ],
    outputs: [{ name: 'probs', shape: [1, probs.length], data: probs }],
  });
  t.header.input.preprocess = SPEC;
  t.header.model.inputs = [{ name: 'x', shape: [null, 4, 4, 3], dtype: 'float32' }];
  return t;
}

const ramp = (lo: number, hi: number): Float32Array => Float32Array.from({ length: 48 }, (_, i) => lo + ((hi - lo) * i) / 47);
const byId = (r: ReturnType<typeof runAssertions>, id: string) => r.find((x) => x.id === id)!;

describe('assertions', () => {
  it('built-ins pass on a plausible trace and skip what needs the photo', () => {
    const r = runAssertions(trace(ramp(-1, 1), Float32Array.from([0.2, 0.3, 0.5])), { outputs: [{ name: 'probs', meaning: 'classification' }] });
    expect(r.map((x) => x.id)).toEqual(BUILTIN_ASSERTIONS.map((a) => a.id));
    expect(failedAssertions(r)).toEqual([]);
    expect(byId(r, 'channel-order').ok).toBeNull();
    expect(byId(r, 'output-plausible').detail).toMatch(/probs probabilities plausible/);
    expect(specValueRange(SPEC)).toEqual([-1, 1]);
  });

  it('fail: input outside the card range, [0,1] where [-1,1] is expected only if it leaves the range; NaN; softmax not summing to 1', () => {
    expect(byId(runAssertions(trace(ramp(0, 255), Float32Array.from([0.2, 0.3, 0.5]))), 'input-range').detail).toBe("values [0, 255] outside the card's range [-1, 1]");
    expect(byId(runAssertions(trace(ramp(0.4, 0.45), Float32Array.from([0.2, 0.3, 0.5]))), 'input-range').ok).toBe(false);
    const r = runAssertions(trace(ramp(-1, 1), Float32Array.from([0.2, 0.3, 0.6]), { nan: true }));
    expect(byId(r, 'finite').detail).toMatch(/1 non-finite values, first at conv \(1 NaN, 0 Inf\)/);
    expect(byId(r, 'output-plausible').detail).toMatch(/softmax row 0 sums to 1.1/);
  });

  it('user assertions: defined in a few lines, exceptions are failures, invalid ones rejected', () => {
    const mine = defineAssertion({
      id: 'first-class-wins',
      description: 'class 0 is the top class',
      check: (t) => {
        const p = t.blobs.get(t.header.outputs[0]!.blob!.id)!;
        return { ok: p[0]! >= Math.max(...p), detail: `p = [${Array.from(p).join(', ')}]` };
      },
    });
    const boom = defineAssertion({ id: 'boom', description: 'throws', check: () => { throw new Error('nope'); } });
    const bool = defineAssertion({ id: 'bool', description: 'returns a boolean', check: () => true });
    const r = runAssertions(trace(ramp(-1, 1), Float32Array.from([0.2, 0.3, 0.5])), {}, [mine, boom, bool], { builtins: false });
    expect(r).toEqual([
      { id: 'first-class-wins', description: 'class 0 is the top class', ok: false, detail: 'p = [0.20000000298023224, 0.30000001192092896, 0.5]', builtin: false },
      { id: 'boom', description: 'throws', ok: false, detail: 'threw: nope', builtin: false },
      { id: 'bool', description: 'returns a boolean', ok: true, detail: 'ok', builtin: false },
    ]);
    expect(() => defineAssertion({ id: 'bad id!', description: 'x', check: () => true })).toThrow(/id must be/);
  });
});
