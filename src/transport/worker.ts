/**
 * postMessage transport: the same code on both ends of a Worker, a MessagePort or a window.
 *
 * `send` posts `{ exray: 'trace-stream', stream, event }` and moves blob buffers (transferablesOf)
 * instead of copying them: after `send`, the sender's blob array is detached (length 0). `subscribe`
 * hears only messages carrying that tag, so the same endpoint can carry other (control) messages.
 */
import type { TraceEvent } from '../trace/types.ts';
import { transferablesOf, type StreamListener, type StreamMessage, type TraceTransport } from './types.ts';

export const WORKER_MESSAGE_TAG = 'trace-stream' as const;

export interface WorkerStreamEnvelope {
  exray: typeof WORKER_MESSAGE_TAG;
  stream: string;
  event: TraceEvent;
}

/** What a Worker, DedicatedWorkerGlobalScope and MessagePort have in common. */
export interface PostMessageEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

export function isStreamEnvelope(data: unknown): data is WorkerStreamEnvelope {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Partial<WorkerStreamEnvelope>;
  return d.exray === WORKER_MESSAGE_TAG && typeof d.stream === 'string' && typeof d.event === 'object' && d.event !== null;
}

export interface WorkerTransportOptions {
  /** Called on close (e.g. `() => worker.terminate()` or `() => port.close()`). Default: nothing. */
  onClose?: () => void;
}

export class WorkerTransport implements TraceTransport {
  private readonly unsubscribers = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly endpoint: PostMessageEndpoint,
    private readonly options: WorkerTransportOptions = {},
  ) {}

  send(message: StreamMessage): void {
    if (this.closed) return;
    const envelope: WorkerStreamEnvelope = { exray: WORKER_MESSAGE_TAG, stream: message.stream, event: message.event };
    this.endpoint.postMessage(envelope, transferablesOf(message));
  }

  subscribe(listener: StreamListener): () => void {
    if (this.closed) return () => {};
    const onMessage = (e: MessageEvent): void => {
      if (isStreamEnvelope(e.data)) listener({ stream: e.data.stream, event: e.data.event });
    };
    this.endpoint.addEventListener('message', onMessage);
    // A MessagePort delivers only after start(); addEventListener does not start it implicitly.
    (this.endpoint as Partial<MessagePort>).start?.();
    const off = (): void => {
      this.endpoint.removeEventListener('message', onMessage);
      this.unsubscribers.delete(off);
    };
    this.unsubscribers.add(off);
    return off;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of [...this.unsubscribers]) off();
    this.options.onClose?.();
  }
}

/** A transport over a Worker (page side), the worker's own global scope (worker side) or a MessagePort. */
export function createWorkerTransport(endpoint: PostMessageEndpoint, options: WorkerTransportOptions = {}): TraceTransport {
  return new WorkerTransport(endpoint, options);
}
