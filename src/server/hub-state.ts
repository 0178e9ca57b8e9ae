/**
 * What the hub (hub.ts) is made of besides its logic: the per-socket and per-session state, the
 * options, sending to a socket with a bound on what a slow viewer may queue, and small utilities.
 */
import type { WebSocket } from 'ws';
import type { TraceEvent } from '../trace/types.ts';
import { AttachmentAssembler, BlobAssembler, blobFrames, type RunMeta, type ServerMessage, type SessionInfo, type WireMetric } from '../transport/wire.ts';
import type { Principal } from './security.ts';
import type { SessionWriter } from './store.ts';

export interface HubOptions {
  /** A session whose producer went away without resuming is marked incomplete after this long. */
  resumeGraceMs: number;
  /** Largest blob (elements) one session may send. */
  maxBlobElements: number;
  /** Largest photo attachment, bytes. */
  maxPhotoBytes: number;
  /** Sessions compared with a reference at once (each holds its reference trace in memory). */
  maxReferenced: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = { resumeGraceMs: 60_000, maxBlobElements: 256 * 1024 * 1024, maxPhotoBytes: 64 * 1024 * 1024, maxReferenced: 3 };

/** Inbound bytes queued on one socket before it is paused (receive-side backpressure). */
export const PAUSE_BYTES = 8 * 1024 * 1024;
export const RESUME_BYTES = 2 * 1024 * 1024;
/** A viewer that falls this far behind is dropped (it reconnects and watches again). */
const VIEWER_MAX_BUFFERED = 256 * 1024 * 1024;

export interface Conn {
  ws: WebSocket;
  principal: Principal;
  session: Active | null;
  /** After a refusal: items of the refused session still in flight are ignored until the next open. */
  discarding: boolean;
  watching: Set<string>;
  chain: Promise<void>;
  queuedBytes: number;
  /** Why ws itself closed the socket (a frame over maxPayload, invalid UTF-8…). */
  failure?: string;
}

export interface Active {
  id: string;
  info: SessionInfo;
  writer: SessionWriter;
  lastSeq: number;
  started: boolean;
  ended: boolean;
  assembler: BlobAssembler;
  photoParts: AttachmentAssembler;
  photo: RunMeta['photo'] | null;
  producer: Conn | null;
  grace: ReturnType<typeof setTimeout> | null;
  chain: Promise<void>;
  watchers: Set<Conn>;
  referenced: boolean;
  refEvents: TraceEvent[];
  metrics: WireMetric[];
  ackScheduled: boolean;
  infoScheduled: ReturnType<typeof setTimeout> | null;
}

/** A session's state as it opens (or resumes after a restart: `writer` knows the last seq journaled). */
export function activeSession(info: SessionInfo, writer: SessionWriter, producer: Conn | null, photo: RunMeta['photo'] | null, options: HubOptions): Active {
  return {
    id: info.id,
    info,
    writer,
    lastSeq: writer.lastSeq,
    started: false,
    ended: false,
    assembler: new BlobAssembler(options.maxBlobElements),
    photoParts: new AttachmentAssembler(options.maxPhotoBytes),
    photo,
    producer,
    grace: null,
    chain: Promise.resolve(),
    watchers: new Set(),
    referenced: false,
    refEvents: [],
    metrics: [],
    ackScheduled: false,
    infoScheduled: null,
  };
}

export function send(conn: Conn, msg: ServerMessage): void {
  sendRaw(conn, JSON.stringify(msg));
}

export function sendRaw(conn: Conn, data: string | Uint8Array): void {
  if (conn.ws.readyState !== conn.ws.OPEN) return;
  if (conn.ws.bufferedAmount > VIEWER_MAX_BUFFERED) {
    conn.ws.terminate();
    return;
  }
  conn.ws.send(data);
}

/** One event of a watched session: JSON for events, binary frames (chunked) for blobs. */
export function sendEvent(conn: Conn, session: string, stream: 'edge' | 'reference', event: TraceEvent): void {
  if (event.type === 'blob') {
    for (const f of blobFrames(event.id, event.data, () => 0, { session, stream })) sendRaw(conn, f);
  } else send(conn, { t: 'sev', session, stream, event });
}

/** A protocol problem that closes one session (and its socket), naming it. */
export class SessionError extends Error {
  constructor(
    readonly session: Active,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** At most `n` tasks at once; the rest wait in order. */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly n: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
