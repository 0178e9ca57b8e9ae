import { describe, expect, it } from 'vitest';
import { TraceFormatError } from './errors.ts';
import { formatPath, headerProblems, parseTraceHeader, SUPPORTED_VERSIONS, traceHeaderSchema, validateTrace } from './schema.ts';
import { makeTrace } from './test-fixtures.ts';
import type { TraceHeader } from './types.ts';

const json = (h: TraceHeader): unknown => JSON.parse(JSON.stringify(h));

describe('schema', () => {
  it('accepts a header with every optional field, and reads null stats back as NaN', () => {
    const t = makeTrace();
    const parsed = parseTraceHeader(json(t.header), 'x.exray');
    expect(parsed).toEqual(t.header);
    expect(parsed.nodes[4]!.outputs[0]!.stats!.histogram.min).toBeNaN();
  });

  it('accepts a minimal header (no optional field, no nodes)', () => {
    const h = makeTrace().header;
    const { label: _l, timing: _t, referenceFor: _r, ...rest } = h;
    const minimal: TraceHeader = {
      ...rest,
      environment: { kind: 'node', userAgent: 'Node.js v20.20.2 (linux x64)', platform: 'linux', hardwareConcurrency: 2, flags: {} },
      input: { tensors: h.input.tensors },
      model: { ...h.model, sha256: '' },
      nodes: [],
      kernels: [],
      outputs: [],
      warnings: [],
    };
    expect(parseTraceHeader(json(minimal), 'x.exray')).toEqual(minimal);
  });

  it('keeps unknown fields at every level (additive changes within a version)', () => {
    const h = json(makeTrace().header) as Record<string, Record<string, unknown>>;
    h.futureTopLevel = { a: 1 };
    h.model!.opset = 17;
    const parsed = parseTraceHeader(h, 'x.exray') as unknown as Record<string, Record<string, unknown>>;
    expect(parsed.futureTopLevel).toEqual({ a: 1 });
    expect(parsed.model!.opset).toBe(17);
  });

  it('rejects NaN and Infinity outside the stats fields of an in-memory trace', () => {
    const t = makeTrace();
    t.header.timing!.runMs[1] = Infinity;
    expect(() => validateTrace(t, 'mem')).toThrow(/^mem: timing\.runMs\[1\] must be a non-negative finite number$/);
    const u = makeTrace();
    u.header.environment.flags.x = NaN;
    expect(() => validateTrace(u, 'mem')).toThrow(TraceFormatError);
  });

  it('formats paths as JavaScript accessors', () => {
    expect(formatPath(['nodes', 12, 'outputs', 0, 'shape', 1])).toBe('nodes[12].outputs[0].shape[1]');
    expect(formatPath(['environment', 'flags', 'WEBGL PACK'])).toBe('environment.flags["WEBGL PACK"]');
    expect(formatPath([])).toBe('the header');
  });

  it('supports file versions 1 and 2 (2: encoded blobs), and the in-memory schema pins format and version 1', () => {
    expect(SUPPORTED_VERSIONS).toEqual([1, 2]);
    expect(traceHeaderSchema.safeParse({ ...json(makeTrace().header) as object, version: 2 }).success).toBe(false);
  });

  it('headerProblems is empty for the fixture and lists every problem otherwise', () => {
    const h = makeTrace().header;
    expect(headerProblems(h)).toEqual([]);
    h.nodes[1]!.name = h.nodes[0]!.name;
    h.nodes[3]!.kernels.push(42);
    expect(headerProblems(h)).toEqual([
      "nodes[1].name 'StatefulPartitionedCall/model/conv1/Conv2D' duplicates nodes[0].name",
      // kernels 1 and 2 now belong to a node whose name is nodes[0]'s: attribution no longer matches.
      "nodes[1].kernels[0] is kernel 1, whose node is 'model/block 1/dw:conv/Relu6', not 'StatefulPartitionedCall/model/conv1/Conv2D'",
      "nodes[1].kernels[1] is kernel 2, whose node is 'model/block 1/dw:conv/Relu6', not 'StatefulPartitionedCall/model/conv1/Conv2D'",
      'nodes[3].kernels[1] is 42, out of range: the trace has 8 kernels',
    ]);
  });
});
