/**
 * One transport interface for trace events, whatever carries them: a function call in the page, a
 * Worker's postMessage, a WebSocket from a phone. Producers `send`, consumers `subscribe`; neither
 * knows which transport it has. Several runs can share one transport: every message names its stream.
 */
import type { TraceEvent } from '../trace/types.ts';

export interface StreamMessage {
  /** Which run this event belongs to (e.g. `webgl`, `wasm`, a trace id, a phone's session id). */
  stream: string;
  event: TraceEvent;
}

export type StreamListener = (message: StreamMessage) => void;

export interface TraceTransport {
  send(message: StreamMessage): void;
  subscribe(listener: StreamListener): () => void;
  close(): void;
}

/** Buffers that can be moved (not copied) with the message: blob values. */
export function transferablesOf(message: StreamMessage): ArrayBuffer[] {
  const e = message.event;
  return e.type === 'blob' && e.data.buffer instanceof ArrayBuffer ? [e.data.buffer] : [];
}
