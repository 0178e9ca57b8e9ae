import { describe, expect, it } from 'vitest';
import type { StreamMessage } from './types.ts';
import { createWorkerTransport, isStreamEnvelope, type PostMessageEndpoint } from './worker.ts';

function next(t: ReturnType<typeof createWorkerTransport>, count = 1): Promise<StreamMessage[]> {
  return new Promise((resolve) => {
    const got: StreamMessage[] = [];
    const off = t.subscribe((m) => {
      got.push(m);
      if (got.length === count) {
        off();
        resolve(got);
      }
    });
  });
}

describe('WorkerTransport over a real MessageChannel', () => {
  it('carries events between the two ends and moves blob buffers', async () => {
    const { port1, port2 } = new MessageChannel();
    const producer = createWorkerTransport(port1 as unknown as PostMessageEndpoint);
    const consumer = createWorkerTransport(port2 as unknown as PostMessageEndpoint);
    const received = next(consumer, 2);
    const data = new Float32Array([1.5, -2, 3]);
    producer.send({ stream: 'wasm', event: { type: 'progress', phase: 'capture pass', done: 1, total: 4 } });
    producer.send({ stream: 'wasm', event: { type: 'blob', id: 'x-0', data } });
    expect(data.length).toBe(0); // transferred, not copied
    const [a, b] = await received;
    expect(a).toEqual({ stream: 'wasm', event: { type: 'progress', phase: 'capture pass', done: 1, total: 4 } });
    expect(b?.event.type).toBe('blob');
    if (b?.event.type === 'blob') {
      expect(b.event.data).toBeInstanceOf(Float32Array);
      expect([...b.event.data]).toEqual([1.5, -2, 3]);
    }
    producer.close();
    consumer.close();
  });

  it('keeps Int32Array blobs exact and ignores untagged messages on the same endpoint', async () => {
    const { port1, port2 } = new MessageChannel();
    const producer = createWorkerTransport(port1 as unknown as PostMessageEndpoint);
    const consumer = createWorkerTransport(port2 as unknown as PostMessageEndpoint);
    const received = next(consumer, 1);
    port1.postMessage({ type: 'control', anything: 1 });
    producer.send({ stream: 'cpu', event: { type: 'blob', id: 'i', data: new Int32Array([2 ** 31 - 1, -7]) } });
    const [m] = await received;
    expect(m?.event.type === 'blob' && [...m.event.data]).toEqual([2 ** 31 - 1, -7]);
    producer.close();
    consumer.close();
  });

  it('close unsubscribes and calls onClose once; sends after close are dropped', () => {
    const posted: unknown[] = [];
    const listeners = new Set<(e: MessageEvent) => void>();
    const endpoint: PostMessageEndpoint = {
      postMessage: (m) => void posted.push(m),
      addEventListener: (_t, l) => void listeners.add(l),
      removeEventListener: (_t, l) => void listeners.delete(l),
    };
    let closes = 0;
    const t = createWorkerTransport(endpoint, { onClose: () => closes++ });
    t.subscribe(() => {});
    expect(listeners.size).toBe(1);
    t.close();
    t.close();
    t.send({ stream: 's', event: { type: 'run-error', message: 'x' } });
    expect(listeners.size).toBe(0);
    expect(closes).toBe(1);
    expect(posted).toEqual([]);
  });

  it('recognises only well-formed envelopes', () => {
    expect(isStreamEnvelope({ exray: 'trace-stream', stream: 's', event: { type: 'run-error', message: '' } })).toBe(true);
    expect(isStreamEnvelope({ exray: 'trace-stream', stream: 1, event: {} })).toBe(false);
    expect(isStreamEnvelope(null)).toBe(false);
    expect(isStreamEnvelope('trace-stream')).toBe(false);
  });
});
