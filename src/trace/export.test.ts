import { describe, expect, it } from 'vitest';
import { toModelExplorerModelNodeData, toModelExplorerNodeData, GREEN_TO_RED } from './export/model-explorer.ts';
import { toPerfetto } from './export/perfetto.ts';
import { makeTrace } from './test-fixtures.ts';
import type { NodeRecord } from './types.ts';

describe('toPerfetto', () => {
  const trace = makeTrace();
  const h = trace.header;
  const out = toPerfetto(trace);
  const json = JSON.parse(JSON.stringify(out)) as typeof out;
  const complete = json.traceEvents.filter((e) => e.ph === 'X');
  const meta = json.traceEvents.filter((e) => e.ph === 'M');

  it('is Chrome trace-event JSON: {traceEvents, displayTimeUnit}, and survives JSON', () => {
    expect(json).toEqual(out);
    expect(json.displayTimeUnit).toBe('ms');
    for (const e of json.traceEvents) {
      expect(typeof e.name).toBe('string');
      expect(['X', 'M']).toContain(e.ph);
      expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
    }
  });

  it('has one complete event per kernel, in order, laid end to end, durations in µs', () => {
    expect(complete).toHaveLength(h.kernels.length);
    expect(complete.map((e) => e.name)).toEqual(h.kernels.map((k) => k.name));
    let ts = 0;
    complete.forEach((e, i) => {
      const ms = h.kernels[i]!.ms;
      expect(e.ts).toBeCloseTo(ts, 9);
      expect(e.dur).toBeCloseTo((ms ?? 0) * 1000, 9);
      ts = e.ts! + e.dur!;
    });
    const totalMs = h.kernels.reduce((a, k) => a + (k.ms ?? 0), 0);
    expect(complete.reduce((a, e) => a + e.dur!, 0)).toBeCloseTo(totalMs * 1000, 9);
    expect(totalMs).toBeCloseTo(0.412 + 0.2 + 0.031 + 0.0625 + 0.01 + 0.125 + 1.5, 12);
    expect(json.otherData.kernelTimeMs).toBeCloseTo(totalMs, 12);
  });

  it('puts each clock on its own named track and notes clock, node and shapes in args', () => {
    const clocks = [...new Set(h.kernels.map((k) => k.clock))];
    const threadNames = meta.filter((e) => e.name === 'thread_name');
    expect(threadNames.map((e) => e.args!.name)).toEqual(clocks.map((c) => `clock: ${c}`));
    const tidOf = new Map(threadNames.map((e) => [String(e.args!.name).slice('clock: '.length), e.tid]));
    expect(new Set(tidOf.values()).size).toBe(clocks.length);
    complete.forEach((e, i) => {
      const k = h.kernels[i]!;
      expect(e.tid).toBe(tidOf.get(k.clock));
      expect(e.args).toMatchObject({ clock: k.clock, node: k.node, ms: k.ms, kernel: i });
    });
    expect(complete[0]!.args).toMatchObject({ op: 'FusedConv2D', inputShapes: '[1,8,8,3] [3,3,3,8] ?', outputShapes: '[1,4,4,8]' });
    expect(complete[3]).toMatchObject({ dur: 0, args: { clock: 'unavailable', ms: null } });
    expect(complete[7]!.args).toMatchObject({ node: null, op: null });
    const proc = meta.find((e) => e.name === 'process_name')!;
    expect(proc.args!.name).toBe('mobilenet-mini · tfjs 4.22.0 (webgl)');
    expect(meta.find((e) => e.name === 'process_labels')!.args!.labels).toBe(h.label);
  });
});

describe('toModelExplorerNodeData', () => {
  const trace = makeTrace();
  const k = trace.header.kernels;
  const ms = (n: NodeRecord): number | undefined => (n.kernels.length === 0 ? undefined : n.kernels.reduce((a, i) => a + (k[i]!.ms ?? 0), 0));

  it('keys results by node name, value = metric; leaves out undefined and non-finite values', () => {
    const data = toModelExplorerNodeData(trace, ms);
    expect(data).toEqual({
      results: {
        'StatefulPartitionedCall/model/conv1/Conv2D': { value: 0.412 },
        'model/block 1/dw:conv/Relu6': { value: 0.2 + 0.031 },
        'model/pool/Mean': { value: 0 },
        'model/dense/MatMul·Ωmega': { value: 0.0625 },
        Identity: { value: 0.01 + 0.125 },
      },
    });
    const std = toModelExplorerNodeData(trace, (n) => n.outputs[0]!.stats?.std);
    expect(Object.keys(std.results)).not.toContain('model/aux/Log'); // all-NaN output: std NaN, left out
    expect(Object.keys(std.results)).toHaveLength(5);
    expect(JSON.parse(JSON.stringify(std))).toEqual(std);
  });

  it('passes name, thresholds and gradient through, and wraps by graph id', () => {
    const thresholds = [{ value: 0.05, bgColor: '#c8e6c9' }, { value: 0.3, bgColor: '#ffa000', textColor: 'white' }];
    const data = toModelExplorerNodeData(trace, ms, { name: 'kernel ms', thresholds, gradient: GREEN_TO_RED });
    expect(data.name).toBe('kernel ms');
    expect(data.thresholds).toEqual(thresholds);
    expect(data.gradient).toEqual(GREEN_TO_RED);
    const model = toModelExplorerModelNodeData(trace, ms, 'main', { key: (n) => `${n.name}:0` });
    expect(Object.keys(model)).toEqual(['main']);
    expect(model.main!.results['Identity:0']).toEqual({ value: 0.01 + 0.125 });
  });

  it('rejects thresholds and gradients Model Explorer would misrender', () => {
    expect(() => toModelExplorerNodeData(trace, ms, { thresholds: [{ value: 2, bgColor: 'red' }, { value: 1, bgColor: 'blue' }] })).toThrow(RangeError);
    expect(() => toModelExplorerNodeData(trace, ms, { gradient: [{ stop: 0, bgColor: 'red' }, { stop: 0.5, bgColor: 'blue' }] })).toThrow(RangeError);
    expect(() => toModelExplorerNodeData(trace, ms, { gradient: [{ stop: 1, bgColor: 'red' }] })).toThrow(RangeError);
  });
});
