/**
 * Node-level causes on synthetic traces (pure): a chain model whose edge run can carry a kernel bug,
 * half-float rounding, overflow or quantized weights; the single-node replays are computed here the way
 * src/reference/replay-node.ts does it on a real model (the reference op on the edge's own inputs).
 */
import { describe, expect, it } from 'vitest';
import { compareTraces } from '../compare/index.ts';
import { makeTrace, randn, type SyntheticNode } from '../compare/synthetic.ts';
import type { Trace } from '../trace/types.ts';
import { attributeErrors, selectReplayNodes, type NodeReplay } from './attribution.ts';
import { diagnose } from './diagnose.ts';
import { roundToHalf } from './node-evidence.ts';
import type { Diagnosis } from './types.ts';

interface ChainOptions {
  nodes?: number;
  elements?: number;
  /** What the edge does to node i's correct output (given the edge's own inputs). */
  edge?: (i: number, correct: Float32Array) => Float32Array;
  /** Scale of the activations (to push values beyond the half range). */
  amplitude?: (i: number) => number;
  edgeSha?: string;
  half?: boolean;
}

const op = (i: number): string => (i % 3 === 0 ? 'Conv2D' : i % 3 === 1 ? 'Relu' : 'MatMul');

/** Reference node i applied to x. */
function f(i: number, x: Float32Array, amp: number): Float32Array {
  return Float32Array.from(x, (v) => (op(i) === 'Relu' ? Math.max(0, v) + 0.05 * v : amp * (0.9 * (v / Math.max(1, Math.abs(amp))) + 0.1 * Math.sin(v + i))));
}

function chain(o: ChainOptions = {}): { edge: Trace; ref: Trace; replays: NodeReplay[] } {
  const n = o.nodes ?? 12;
  const input = randn(o.elements ?? 2000, 5);
  const en: SyntheticNode[] = [];
  const rn: SyntheticNode[] = [];
  const replays: NodeReplay[] = [];
  let xe = input;
  let xr = input;
  for (let i = 0; i < n; i++) {
    const amp = o.amplitude?.(i) ?? 1;
    const correctOnEdge = f(i, xe, amp);
    const ne = o.edge ? o.edge(i, correctOnEdge) : correctOnEdge;
    const nr = f(i, xr, amp);
    const name = `node_${i}`;
    const inputs = [i === 0 ? 'input' : `node_${i - 1}`];
    en.push({ name, op: op(i), inputs, outputs: [{ shape: [1, ne.length], data: ne }] });
    rn.push({ name, op: op(i), inputs, outputs: [{ shape: [1, nr.length], data: nr }] });
    replays.push({ node: name, outputs: [correctOnEdge] });
    xe = ne;
    xr = nr;
  }
  const edge = makeTrace({ id: 'edge', backend: o.half ? 'webgl' : 'wasm', sha256: o.edgeSha ?? 'a'.repeat(64), inputs: [{ name: 'input', shape: [1, input.length], data: input }], nodes: en, outputs: [{ name: 'out', shape: [1, xe.length], data: xe }] });
  const ref = makeTrace({ id: 'ref', backend: 'cpu', sha256: 'a'.repeat(64), inputs: [{ name: 'input', shape: [1, input.length], data: input }], nodes: rn, outputs: [{ name: 'out', shape: [1, xr.length], data: xr }] });
  if (o.half) {
    edge.header.environment.floatPrecision = 16;
    edge.header.environment.flags = { WEBGL_FORCE_F16_TEXTURES: true };
  }
  return { edge, ref, replays };
}

function run(c: ReturnType<typeof chain>, max = 64, nrmse?: number): Diagnosis {
  const comparison = compareTraces(c.edge, c.ref, nrmse ? { tolerance: { nrmse } } : {});
  const picks = new Set(selectReplayNodes(comparison, c.edge, { max }));
  const replays = c.replays.filter((r) => picks.has(r.node));
  const attributions = attributeErrors(comparison, c.edge, c.ref, replays);
  const d = diagnose({ edge: c.edge, ref: c.ref, comparison, attributions, referenceBackend: 'cpu' });
  expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  return d;
}

const tiny = (i: number, x: Float32Array): Float32Array => Float32Array.from(x, (v, k) => v * (1 + 1e-7 * Math.sin(k + i)));

describe('node-level causes on synthetic traces', () => {
  it('a clean run (float32 noise) is `none` and replays nothing', () => {
    const d = run(chain({ edge: tiny }));
    expect(d.causes.map((c) => c.code)).toEqual(['none']);
    expect(d.firstDivergentNode).toBeNull();
    expect(d.nodes.every((n) => n.own === null)).toBe(true);
  });

  it('kernel: the node with its own error is named, not the ones downstream that inherit it', () => {
    const d = run(chain({ edge: (i, x) => (i === 6 ? Float32Array.from(x, (v) => v * 1.02 + 0.01) : tiny(i, x)) }));
    expect(d.causes.map((c) => c.code)).toEqual(['kernel']);
    expect(d.causes[0]!.node).toBe('node_6');
    expect(d.causes[0]!.detail).toMatch(/^node_6 \(Conv2D\) is wrong on its own inputs/);
    expect(d.firstDivergentNode).toBe('node_6');
    const at = (name: string) => d.nodes.find((n) => n.node === name)!;
    expect(at('node_6').own!).toBeGreaterThan(1e-3);
    expect(at('node_6').ownShare!).toBeGreaterThan(0.99);
    for (const k of [7, 8, 9]) {
      expect(at(`node_${k}`).total).toBeGreaterThan(1e-3);
      expect(at(`node_${k}`).own ?? 0).toBeLessThan(1e-5);
    }
  });

  it('two independent kernel errors are both reported', () => {
    const d = run(chain({ edge: (i, x) => (i === 3 || i === 9 ? Float32Array.from(x, (v) => v * 1.05) : x) }));
    expect(d.causes.filter((c) => c.code === 'kernel').map((c) => c.node).sort()).toEqual(['node_3', 'node_9']);
  });

  it('float16: a half-float edge (every value rounded to half) is `float16`, not a kernel bug', () => {
    // Rounding alone stays near the float32 tolerance on this short chain: judge it at 1e-4.
    const d = run(chain({ half: true, edge: (_i, x) => Float32Array.from(x, roundToHalf) }), 64, 1e-4);
    expect(d.causes.map((c) => c.code)).toEqual(['float16']);
    expect(d.causes[0]!.detail).toMatch(/half-float backend \(floatPrecision 16, WEBGL_FORCE_F16_TEXTURES/);
    expect(d.causes[0]!.detail).toMatch(/precision loss at every layer/);
  });

  it('float16: values beyond the half range overflow to Inf at the node that exceeds it', () => {
    const d = run(
      chain({
        half: true,
        amplitude: (i) => (i >= 3 ? 1e6 : 1),
        edge: (_i, x) => Float32Array.from(x, roundToHalf),
      }),
    );
    const c = d.causes.find((x) => x.code === 'float16')!;
    expect(c.node).toBe('node_3');
    expect(c.detail).toMatch(/Inf\/NaN first appear at node_3/);
    expect(c.confidence).toBeGreaterThan(0.9);
    expect(d.causes[0]!.code).toBe('float16');
  });

  it('quantization: a different (quantized) model spreads own error over the weighted layers', () => {
    const q = (i: number, x: Float32Array): Float32Array => (op(i) === 'Relu' ? x : Float32Array.from(x, (v, k) => v + 0.004 * Math.sin(k * 1.3 + i)));
    const d = run(chain({ edgeSha: 'b'.repeat(64), edge: q }));
    expect(d.causes.map((c) => c.code)).toEqual(['quantization']);
    expect(d.causes[0]!.detail).toMatch(/weights differ from the reference: \d+ of \d+ replayed computing layers lose precision/);
    expect(d.causes[0]!.detail).toMatch(/rmse\/scale/);
    // With one layer far worse than the rest, that layer is a kernel finding too.
    const d2 = run(chain({ edgeSha: 'b'.repeat(64), edge: (i, x) => (i === 5 ? Float32Array.from(x, (v) => -v) : q(i, x)) }));
    expect(d2.causes.map((c) => c.code).sort()).toEqual(['kernel', 'quantization']);
    expect(d2.causes.find((c) => c.code === 'kernel')!.node).toBe('node_5');
  });
});
