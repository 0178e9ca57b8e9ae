import { describe, expect, it } from 'vitest';
import { TraceFormatError, TraceRunError } from './errors.ts';
import { foldEvents, TraceBuilder, traceToEvents } from './events.ts';
import { blobUses } from './schema.ts';
import { makeTrace, rng } from './test-fixtures.ts';
import type { Trace, TraceEvent } from './types.ts';

function fold(events: TraceEvent[]): Trace {
  const b = new TraceBuilder();
  for (const e of events) b.push(e);
  return b.finish();
}

function expectFormatError(fn: () => unknown, problem: RegExp, file = 'event stream'): TraceFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(TraceFormatError);
  const err = caught as TraceFormatError;
  expect(err.file).toBe(file);
  expect(err.message).toBe(`${file}: ${err.problem}`);
  expect(err.problem).toMatch(problem);
  return err;
}

/** Events between run-start and run-end in a seeded random order. */
function shuffleMiddle(events: TraceEvent[], seed: number): TraceEvent[] {
  const r = rng(seed);
  const middle = events.slice(1, -1);
  for (let i = middle.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [middle[i], middle[j]] = [middle[j]!, middle[i]!];
  }
  return [events[0]!, ...middle, events.at(-1)!];
}

describe('traceToEvents / TraceBuilder', () => {
  it('fold(traceToEvents(t)) deep-equals t', () => {
    const t = makeTrace();
    const back = fold(traceToEvents(t));
    expect(back).toEqual(t);
    expect([...back.blobs.keys()].sort()).toEqual([...t.blobs.keys()].sort());
    for (const [id, data] of t.blobs) expect(back.blobs.get(id)).toBeInstanceOf(data.constructor);
  });

  it('emits run-start first, run-end last, each blob once and before its first use, kernels in order', () => {
    const t = makeTrace();
    const events = traceToEvents(t);
    expect(events[0]!.type).toBe('run-start');
    expect(events.at(-1)!.type).toBe('run-end');
    const blobPos = new Map<string, number>();
    events.forEach((e, i) => {
      if (e.type === 'blob') {
        expect(blobPos.has(e.id), `blob ${e.id} emitted twice`).toBe(false);
        blobPos.set(e.id, i);
      }
    });
    expect(blobPos.size).toBe(t.blobs.size);
    const firstUse = (id: string): number =>
      events.findIndex(
        (e) =>
          (e.type === 'run-start' && e.input.tensors.some((x) => x.blob?.id === id)) ||
          (e.type === 'node' && e.node.outputs.some((x) => x.blob?.id === id)) ||
          (e.type === 'run-end' && e.outputs.some((x) => x.blob?.id === id)),
      );
    for (const { ref } of blobUses(t.header)) {
      // The input blobs follow run-start (which carries the input record); all others precede their use.
      const use = firstUse(ref.id);
      if (use === 0) expect(blobPos.get(ref.id)).toBeGreaterThan(0);
      else expect(blobPos.get(ref.id)!).toBeLessThan(use);
    }
    const kernelIdx = events.flatMap((e) => (e.type === 'kernel' ? [e.kernel.index] : []));
    expect(kernelIdx).toEqual(t.header.kernels.map((k) => k.index));
    // Each node's kernels are emitted before the node.
    events.forEach((e, i) => {
      if (e.type !== 'node') return;
      for (const k of e.node.kernels) {
        expect(events.findIndex((x) => x.type === 'kernel' && x.kernel.index === k)).toBeLessThan(i);
      }
    });
  });

  it('accepts blobs, nodes and kernels in any order between run-start and run-end', () => {
    const t = makeTrace(3);
    for (const seed of [1, 2, 3, 4, 5]) {
      expect(fold(shuffleMiddle(traceToEvents(t), seed))).toEqual(t);
    }
  });

  it('keeps unknown header fields (additive fields of a newer v1 writer) through the stream', () => {
    const t = makeTrace();
    const extended = { ...t, header: { ...t.header, gpuMemoryMb: 512 } };
    expect(fold(traceToEvents(extended))).toEqual(extended);
  });

  it('ignores progress events but remembers the last one', () => {
    const t = makeTrace();
    const events = traceToEvents(t);
    const b = new TraceBuilder();
    b.push(events[0]!);
    b.push({ type: 'progress', phase: 'warm-up', done: 1, total: 4 });
    for (const e of events.slice(1)) b.push(e);
    expect(b.lastProgress).toEqual({ type: 'progress', phase: 'warm-up', done: 1, total: 4 });
    expect(b.finish()).toEqual(t);
    expect(b.trace).toBe(b.finish());
    expect(b.state).toBe('ended');
  });

  it('foldEvents names its source in errors', () => {
    expectFormatError(() => foldEvents([], { source: 'ws://pixel-7' }), /no 'run-start' event/, 'ws://pixel-7');
  });

  it('rejects a stream without run-start or without run-end', () => {
    const events = traceToEvents(makeTrace());
    expectFormatError(() => new TraceBuilder().finish(), /no 'run-start' event/);
    expectFormatError(() => new TraceBuilder().push(events[1]!), /'blob' event before 'run-start'/);
    const b = new TraceBuilder();
    for (const e of events.slice(0, -1)) b.push(e);
    expect(b.state).toBe('running');
    expectFormatError(() => b.finish(), /no 'run-end' event: the run did not finish \(6 nodes, 8 kernels, 6 blobs received\)/);
  });

  it('rejects events after the end, a second run-start, a duplicate blob id, a second timing', () => {
    const events = traceToEvents(makeTrace());
    const b = new TraceBuilder();
    for (const e of events) b.push(e);
    expectFormatError(() => b.push(events[1]!), /'blob' event after 'run-end'/);
    expectFormatError(() => fold([events[0]!, events[0]!]), /second 'run-start'/);
    const blob = events.find((e) => e.type === 'blob')!;
    expectFormatError(() => fold([events[0]!, blob, blob]), /blob '0000-input_image_0-0' pushed twice/);
    const timing = events.find((e) => e.type === 'timing')!;
    expectFormatError(() => fold([events[0]!, timing, timing]), /second 'timing' event/);
    expectFormatError(
      () => fold([events[0]!, { type: 'blob', id: 'x', data: new Float64Array(2) as unknown as Float32Array }]),
      /blob 'x': data must be a Float32Array or an Int32Array/,
    );
    expectFormatError(() => fold([events[0]!, { type: 'bogus' } as unknown as TraceEvent]), /unknown event type "bogus"/);
  });

  it('turns run-error into TraceRunError', () => {
    const events = traceToEvents(makeTrace());
    const b = new TraceBuilder({ source: 'worker' });
    b.push(events[0]!);
    b.push({ type: 'run-error', message: 'WebGL context lost' });
    expect(b.state).toBe('failed');
    expect(b.error).toBe('WebGL context lost');
    expect(() => b.finish()).toThrow(TraceRunError);
    expect(() => b.finish()).toThrow('worker: the run failed: WebGL context lost');
  });

  it('validates blob references at finish', () => {
    const t = makeTrace();
    const events = traceToEvents(t);
    const nodeBlobId = t.header.nodes[0]!.outputs[0]!.blob!.id;
    const withoutBlob = events.filter((e) => !(e.type === 'blob' && e.id === nodeBlobId));
    expectFormatError(() => fold(withoutBlob), new RegExp(`blob '${nodeBlobId}' referenced by nodes\\[0\\]\\.outputs\\[0\\]\\.blob is missing`));

    const shortBlob = events.map((e) => (e.type === 'blob' && e.id === nodeBlobId ? { ...e, data: e.data.subarray(0, 5) } : e));
    expectFormatError(() => fold(shortBlob), /has 5 elements but nodes\[0\]\.outputs\[0\]\.blob\.length is 128/);

    const inputId = t.header.input.tensors[0]!.blob!.id;
    const wrongType = events.map((e) => (e.type === 'blob' && e.id === inputId ? { ...e, data: new Float32Array(e.data.length) } : e));
    expectFormatError(() => fold(wrongType), /blob '0000-input_image_0-0' is a Float32Array but input\.tensors\[0\]\.blob\.encoding is 'int32'/);
  });

  it('validates the header at finish (same rules as the file reader)', () => {
    const t = makeTrace();
    const events = traceToEvents(t).map((e) =>
      e.type === 'node' && e.node.index === 2 ? { ...e, node: { ...e.node, name: t.header.nodes[0]!.name } } : e,
    );
    expectFormatError(() => fold(events), /nodes\[2\]\.name 'StatefulPartitionedCall\/model\/conv1\/Conv2D' duplicates nodes\[0\]\.name/);
  });

  it('drops blobs nothing references, with a warning', () => {
    const t = makeTrace();
    const events = traceToEvents(t);
    const orphan: TraceEvent = { type: 'blob', id: 'orphan', data: new Float32Array(3) };
    const back = fold([events[0]!, orphan, ...events.slice(1)]);
    expect(back.blobs.has('orphan')).toBe(false);
    expect(back.header.warnings.at(-1)).toBe('dropped 1 blob(s) that no node, input or output references: orphan');
    expect({ ...back, header: { ...back.header, warnings: t.header.warnings } }).toEqual(t);
  });
});
