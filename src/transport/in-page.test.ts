import { describe, expect, it } from 'vitest';
import type { StreamMessage } from './types.ts';
import { InPageTransport } from './in-page.ts';

const progress = (done: number): StreamMessage => ({ stream: 's', event: { type: 'progress', phase: 'p', done, total: 3 } });

describe('InPageTransport', () => {
  it('delivers every message synchronously, in order, to every subscriber', () => {
    const t = new InPageTransport();
    const a: number[] = [];
    const b: number[] = [];
    t.subscribe((m) => m.event.type === 'progress' && a.push(m.event.done));
    t.subscribe((m) => m.event.type === 'progress' && b.push(m.event.done));
    t.send(progress(0));
    t.send(progress(1));
    expect(a).toEqual([0, 1]);
    expect(b).toEqual([0, 1]);
  });

  it('passes blob arrays by reference (no copy) and keeps stream names', () => {
    const t = new InPageTransport();
    const data = new Float32Array([1, 2, 3]);
    let got: StreamMessage | undefined;
    t.subscribe((m) => (got = m));
    t.send({ stream: 'webgl', event: { type: 'blob', id: 'b', data } });
    expect(got?.stream).toBe('webgl');
    expect(got?.event.type === 'blob' && got.event.data).toBe(data);
  });

  it('unsubscribe and close stop delivery', () => {
    const t = new InPageTransport();
    const seen: number[] = [];
    const off = t.subscribe((m) => m.event.type === 'progress' && seen.push(m.event.done));
    t.send(progress(0));
    off();
    t.send(progress(1));
    t.subscribe((m) => m.event.type === 'progress' && seen.push(m.event.done));
    t.close();
    t.send(progress(2));
    expect(seen).toEqual([0]);
  });

  it('a throwing listener does not starve the others', async () => {
    const t = new InPageTransport();
    const seen: string[] = [];
    const errors: unknown[] = [];
    const onError = (e: unknown): void => void errors.push(e);
    process.on('uncaughtException', onError);
    t.subscribe(() => {
      throw new Error('boom');
    });
    t.subscribe((m) => seen.push(m.stream));
    t.send(progress(0));
    await new Promise((r) => setTimeout(r, 10));
    process.off('uncaughtException', onError);
    expect(seen).toEqual(['s']);
    expect(String(errors[0])).toContain('boom');
  });
});
