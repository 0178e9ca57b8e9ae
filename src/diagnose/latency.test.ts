import { describe, expect, it } from 'vitest';
import { makeTrace } from '../compare/synthetic.ts';
import type { KernelRecord, Trace } from '../trace/types.ts';
import { formatLatencyReport, latencyReport } from './latency.ts';

function timed(backend: string, ms: Record<string, number>, extra: Partial<KernelRecord>[] = [], label?: string): Trace {
  const names = Object.keys(ms);
  const t = makeTrace({ backend, ...(label ? { label } : {}), nodes: names.map((n) => ({ name: n, op: n.startsWith('conv') ? 'Conv2D' : n.startsWith('dw') ? 'DepthwiseConv2dNative' : n === 'nms' ? 'NonMaxSuppressionV5' : 'Add', outputs: [{ shape: [1, 8] }] })) });
  const kernels: KernelRecord[] = [];
  names.forEach((n, i) => {
    kernels.push({ index: kernels.length, name: t.header.nodes[i]!.op === 'Conv2D' ? 'FusedConv2D' : t.header.nodes[i]!.op, node: n, ms: ms[n]!, clock: backend === 'webgl' ? 'gpu-timer-query' : 'wall', inputShapes: [[1, 64, 64, 8]], outputShapes: [[1, 64, 64, 8]] });
    t.header.nodes[i]!.kernels = [kernels.length - 1];
  });
  for (const e of extra) kernels.push({ index: kernels.length, name: 'Add', node: null, ms: 0.01, clock: 'wall', inputShapes: [[1]], outputShapes: [[1]], ...e });
  t.header.kernels = kernels;
  t.header.timing = { warmupRuns: 1, runMs: [10], medianMs: Object.values(ms).reduce((a, b) => a + b, 0), firstRunMs: backend === 'webgl' ? 400 : 12 };
  return t;
}

describe('latency report', () => {
  it('ratios to the fastest backend, slowest nodes, run spread, read-backs and CPU fall-backs, reasons', () => {
    const wasm1 = timed('wasm', { conv1: 4, dw1: 1, add1: 0.1, nms: 0.5 });
    const wasm2 = timed('wasm', { conv1: 4.4, dw1: 1, add1: 0.3, nms: 0.5 });
    const webgl = timed('webgl', { conv1: 2, dw1: 3, add1: 0.5, nms: 6 }, [{ name: 'Multiply', node: 'add1', inputShapes: [[4], [4]], clock: 'gpu-timer-query' }]);
    webgl.header.environment.kind = 'browser';
    const cpu = timed('cpu', { conv1: 80, dw1: 10, add1: 0.2, nms: 0.6 });
    const r = latencyReport([wasm1, wasm2, webgl, cpu]);
    expect(r.backends.map((b) => [b.key, b.runs])).toEqual([['wasm (node)', 2], ['webgl (browser)', 1], ['cpu (node)', 1]]);
    const conv = r.nodes.find((n) => n.node === 'conv1')!;
    expect(conv.fastest).toBe('webgl (browser)');
    expect(conv.ratio['cpu (node)']).toBe(40);
    expect(conv.ms['wasm (node)']).toBeCloseTo(4.2);
    expect(conv.reasons.join()).toMatch(/plain-JS cpu backend/);
    const dw = r.nodes.find((n) => n.node === 'dw1')!;
    expect(dw.reasons.join()).toMatch(/depthwise convolution on WebGL is memory-bound/);
    expect(r.nodes.find((n) => n.node === 'add1')!.reasons.join()).toMatch(/unstable across runs/);
    expect(r.flags).toContainEqual({ backend: 'webgl (browser)', node: 'nms', kernel: 'NonMaxSuppressionV5', kind: 'readback', reason: expect.stringMatching(/read back from the GPU/) });
    expect(r.flags).toContainEqual(expect.objectContaining({ backend: 'webgl (browser)', node: 'add1', kernel: 'Multiply', kind: 'cpu-fallback' }));
    expect(r.slowest.find((s) => s.backend === 'cpu (node)')!.nodes[0]!.node).toBe('conv1');
    expect(r.notes.join()).toMatch(/webgl \(browser\): the first run took .*× the median/);
    expect(r.nodes[0]!.node).toBe('conv1');
    const text = formatLatencyReport(r);
    expect(text).toMatch(/Slowest nodes/);
    expect(text).toMatch(/NonMaxSuppressionV5 in nms/);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
