/**
 * In-page transport: producer and consumer share one JS realm, a message is a function call.
 *
 * Delivery is synchronous and in order; a listener that throws does not stop the others (the error is
 * reported asynchronously, like an event listener's). Messages sent after `close()` are dropped.
 */
import type { StreamListener, StreamMessage, TraceTransport } from './types.ts';

export class InPageTransport implements TraceTransport {
  private listeners = new Set<StreamListener>();
  private closed = false;

  send(message: StreamMessage): void {
    if (this.closed) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(message);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  subscribe(listener: StreamListener): () => void {
    if (this.closed) return () => {};
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }
}

/** A fresh in-page transport. */
export function createInPageTransport(): TraceTransport {
  return new InPageTransport();
}
