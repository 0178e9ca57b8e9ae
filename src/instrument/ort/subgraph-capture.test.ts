import { describe, expect, it } from 'vitest';
import { controlFlowOwnTimes } from './subgraph-capture.ts';

const k = (op: string, startUs: number, ms: number) => ({ op, startUs, ms });

describe('controlFlowOwnTimes', () => {
  it('subtracts the kernels directly inside each control-flow kernel, nested ones once', () => {
    // If [0, 1000 µs] holds Conv [10, 210] and a nested If [300, 800] holding Add [310, 410] and Mul [500, 700];
    // then a Relu after it, outside everything.
    const kernels = [k('If', 0, 1), k('Conv', 10, 0.2), k('If', 300, 0.5), k('Add', 310, 0.1), k('Mul', 500, 0.2), k('Relu', 1100, 0.05)];
    const { ms, adjusted } = controlFlowOwnTimes(kernels);
    expect(ms[0]).toBeCloseTo(1 - 0.2 - 0.5, 9);
    expect(ms[2]).toBeCloseTo(0.5 - 0.1 - 0.2, 9);
    expect(ms.slice(3)).toEqual([0.1, 0.2, 0.05]);
    expect(ms[1]).toBe(0.2);
    // The own times and the leaves add up to the outer If's measured time.
    expect(ms.slice(0, 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(adjusted.map((a) => a.index).sort()).toEqual([0, 2]);
  });

  it('leaves kernels alone when no control-flow kernel encloses anything (a Loop of one instant, siblings)', () => {
    const kernels = [k('Loop', 0, 0.01), k('Conv', 20, 0.3), k('Scan', 400, 0.1)];
    expect(controlFlowOwnTimes(kernels)).toEqual({ ms: [0.01, 0.3, 0.1], adjusted: [] });
  });
});
