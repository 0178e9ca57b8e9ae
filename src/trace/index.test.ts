import { describe, expect, it } from 'vitest';
import * as api from './index.ts';
import { makeTrace } from './test-fixtures.ts';

describe('src/trace public API', () => {
  it('exposes the codec, the stream and the exports, which compose', () => {
    const t = makeTrace(7);
    const back = api.foldEvents(api.traceToEvents(api.decodeTrace(api.encodeTrace(t), 'a.exray')));
    expect(back).toEqual(t);
    expect(api.toPerfetto(back).traceEvents.filter((e) => e.ph === 'X')).toHaveLength(t.header.kernels.length);
    expect(api.TRACE_FORMAT).toBe('exray-trace');
    expect(api.TRACE_VERSION).toBe(1);
    expect(new api.TraceFormatError('f', 'p').message).toBe('f: p');
  });
});
