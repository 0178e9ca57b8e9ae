/**
 * The producer's resend buffer (socket.ts owns the connection): sessions in order, each with its
 * frames from the moment they are made (seq given then, bytes never change) until the server's
 * cumulative ack covers them. Byte counts are kept for the whole queue: `held` (unacknowledged) and
 * `sentBytes` (of those, written to the current socket). Pure: no timers, no socket.
 */
import { attachmentFrames, blobFrames, MAX_FRAME_BYTES, MAX_TEXT_BYTES, type ClientMessage, type LinkPrecision, type RunMeta } from './wire.ts';
import type { BlobData, TensorRecord, TraceEvent } from '../trace/types.ts';

export const MiB = 1024 * 1024;

export interface SessionOutcome {
  session: string | null;
  status: 'done' | 'failed' | 'refused';
  reason: string | null;
  warnings: string[];
}

export class SessionError extends Error {
  constructor(readonly outcome: SessionOutcome) {
    super(outcome.reason ?? outcome.status);
    this.name = 'SessionError';
  }
}

export interface Frame {
  seq: number;
  data: string | Uint8Array;
  bytes: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {}); // a caller that only awaits end() must not see an unhandled rejection
  return { promise, resolve, reject };
}

export interface OutSession {
  meta: RunMeta;
  id: string | null;
  /** Unacknowledged frames, consecutive seqs ascending. */
  frames: Frame[];
  /** Last seq given out. */
  seq: number;
  /** Highest seq written to the current socket. */
  sent: number;
  acked: number;
  /** run-end / run-error queued: no more frames. */
  ended: boolean;
  openSent: boolean;
  resuming: boolean;
  /** Set when the session failed on this side (overflow); reported once the server has it all. */
  failure: string | null;
  /** Blob ids events already queued refer to (run-start's inputs, nodes): these cannot be left out. */
  named: Set<string>;
  /** With a link precision (RunMeta.precision, `tensors` runs): the input blobs, which travel exact. */
  inputs: Set<string>;
  /** Left out for lack of room (id → bytes); their references are removed from later events. */
  dropped: Map<string, number>;
  /** Blobs that did not fit, until the next other event says whether they can be left out. */
  waiting: Map<string, BlobData>;
  warnings: string[];
  opened: Deferred<string>;
  done: Deferred<SessionOutcome>;
}

export class SessionQueue {
  /** Sessions not yet fully acknowledged; the head is the one on the socket. */
  readonly sessions: OutSession[] = [];
  /** The last begun session: the one `add` feeds. */
  current: OutSession | null = null;
  held = 0;
  sentBytes = 0;

  constructor(readonly maxBuffered: number) {}

  get head(): OutSession | undefined {
    return this.sessions[0];
  }

  find(id: string | null): OutSession | undefined {
    return id === null ? undefined : this.sessions.find((s) => s.id === id);
  }

  /** A new session (the photo, when it fits one attachment frame, is its seq 1); `closed`: fail it at once. */
  create(run: RunMeta, photo: Uint8Array | undefined, closed: string | null): OutSession {
    const prev = this.current;
    if (prev && !prev.ended) this.add(prev, { type: 'run-error', message: 'abandoned: the next run started before this one ended' });
    const { photo: described, ...withoutPhoto } = run;
    // The photo goes first (chunked when large), unless it alone would fill the resend buffer.
    const fits = photo !== undefined && described !== undefined && photo.byteLength <= this.maxBuffered / 4;
    const s: OutSession = { meta: fits ? run : withoutPhoto, id: null, frames: [], seq: 0, sent: 0, acked: 0, ended: false, openSent: false, resuming: false, failure: null, named: new Set(), inputs: new Set(), dropped: new Map(), waiting: new Map(), warnings: [], opened: deferred(), done: deferred() };
    if (fits) for (const f of attachmentFrames('photo', photo, () => ++s.seq)) this.hold(s, f);
    else if (photo && described) s.warnings.push(`photo of ${(photo.byteLength / MiB).toFixed(1)} MiB is over a quarter of the ${(this.maxBuffered / MiB).toFixed(0)} MiB link buffer: not sent`);
    this.current = s;
    if (closed) this.finish(s, 'failed', closed);
    else this.sessions.push(s);
    return s;
  }

  /**
   * One event as frames of `s`, within the bound (see socket.ts). A blob that does not fit waits (with
   * those after it) for the next other event, which says what it is: a node's output is then sent if
   * there is room, else left out (the node keeps its statistics); a blob the event needs (run-end's
   * outputs: a trace must have them) or that was named earlier is sent within 1/8 slack, or the
   * session fails. So this side holds at most the bound, its slack, and one node's outputs.
   */
  add(s: OutSession, e: TraceEvent): void {
    if (s.ended) return;
    if (e.type === 'blob') {
      if (s.waiting.size === 0 && this.fits(e.data.byteLength, 0)) this.blob(s, e.id, e.data);
      else s.waiting.set(e.id, e.data);
      return;
    }
    if (s.waiting.size > 0) this.settle(s, e);
    if (s.ended) return;
    // Blobs named before they arrive (run-start's inputs; any producer's forward references) must be sent.
    const named = e.type === 'run-start' ? e.input.tensors : e.type === 'node' ? e.node.outputs : [];
    for (const t of named) if (t.blob && !s.dropped.has(t.blob.id)) s.named.add(t.blob.id);
    if (e.type === 'run-start') for (const t of e.input.tensors) if (t.blob) s.inputs.add(t.blob.id);
    const end = e.type === 'run-end' || e.type === 'run-error';
    const text = JSON.stringify({ t: 'ev', seq: s.seq + 1, event: this.declared(s, this.withoutDropped(s, e)) } satisfies ClientMessage);
    if (text.length > MAX_TEXT_BYTES) return this.overflow(s, `a ${e.type} event of ${(text.length / MiB).toFixed(1)} MiB is over the text frame limit`);
    // The end of a run is always taken: without it the server could not close the session.
    if (!end && !this.fits(text.length, this.maxBuffered / 8)) return this.overflow(s);
    s.seq++;
    this.hold(s, text);
    if (end) s.ended = true;
  }

  private fits(bytes: number, slack: number): boolean {
    const chunks = Math.max(1, Math.ceil(bytes / (MAX_FRAME_BYTES / 2)));
    return this.held + bytes + 512 * chunks <= this.maxBuffered + slack;
  }

  private blob(s: OutSession, id: string, data: BlobData): void {
    // A large blob is several frames, each with its own seq (blobFrames numbers them in order).
    const first = s.seq + 1;
    const precision = this.precision(s) && !s.inputs.has(id) ? this.precision(s) : undefined;
    blobFrames(id, data, () => ++s.seq, {}, precision).forEach((f, k) => this.hold(s, f, first + k));
  }

  /** The session's link precision: values are narrowed only in `tensors` runs (stats and timing send none). */
  private precision(s: OutSession): LinkPrecision | undefined {
    return s.meta.capture === 'tensors' ? s.meta.precision : undefined;
  }

  /** run-start as sent: with a link precision it declares `storagePrecision` (the coarser, if it had one). */
  private declared(s: OutSession, e: Exclude<TraceEvent, { type: 'blob' }>): Exclude<TraceEvent, { type: 'blob' }> {
    const p = this.precision(s);
    if (e.type !== 'run-start' || !p) return e;
    return { ...e, storagePrecision: e.storagePrecision === 'bfloat16' ? 'bfloat16' : p };
  }

  /** Send or leave out the blobs that waited for `e` (see add). */
  private settle(s: OutSession, e: Exclude<TraceEvent, { type: 'blob' }>): void {
    const needed = new Set(s.named);
    if (e.type === 'run-end') for (const o of e.outputs) if (o.blob) needed.add(o.blob.id);
    for (const [id, data] of s.waiting) {
      if (needed.has(id)) {
        if (!this.fits(data.byteLength, this.maxBuffered / 8)) return this.overflow(s);
        this.blob(s, id, data);
      } else if (this.fits(data.byteLength, 0)) this.blob(s, id, data);
      else s.dropped.set(id, data.byteLength);
    }
    s.waiting.clear();
  }

  /** The event with references to left-out blobs removed (a copy: the caller's event is not touched). */
  private withoutDropped(s: OutSession, e: Exclude<TraceEvent, { type: 'blob' }>): Exclude<TraceEvent, { type: 'blob' }> {
    if (s.dropped.size === 0 || (e.type !== 'node' && e.type !== 'run-end')) return e;
    const strip = <T extends TensorRecord>(t: T): T => {
      if (!t.blob || !s.dropped.has(t.blob.id)) return t;
      const { blob: _gone, ...rest } = t;
      return rest as T;
    };
    if (e.type === 'node') return { ...e, node: { ...e.node, outputs: e.node.outputs.map(strip) } };
    let bytes = 0;
    for (const b of s.dropped.values()) bytes += b;
    const note = `link too slow: the values of ${s.dropped.size} tensors (${(bytes / MiB).toFixed(1)} MiB) were not sent; those nodes are compared by their statistics (bounds)`;
    s.warnings.push(note);
    return { ...e, outputs: e.outputs.map(strip), warnings: [...e.warnings, note] };
  }

  private hold(s: OutSession, data: string | Uint8Array, seq = s.seq): void {
    const bytes = typeof data === 'string' ? data.length : data.byteLength;
    s.frames.push({ seq, data, bytes });
    this.held += bytes;
  }

  private overflow(s: OutSession, why?: string): void {
    s.waiting.clear();
    s.failure = why ?? `link too slow: ${(this.held / MiB).toFixed(1)} MiB unacknowledged (limit ${(this.maxBuffered / MiB).toFixed(0)} MiB)`;
    s.seq++;
    this.hold(s, JSON.stringify({ t: 'ev', seq: s.seq, event: { type: 'run-error', message: s.failure } } satisfies ClientMessage));
    s.ended = true;
  }

  /** Frames of `s` not yet written to the current socket. */
  *unsent(s: OutSession): Generator<Frame> {
    const base = s.frames[0]?.seq ?? s.sent + 1;
    for (let i = Math.max(0, s.sent + 1 - base); i < s.frames.length; i++) yield s.frames[i]!;
  }

  markSent(s: OutSession, f: Frame): void {
    s.sent = f.seq;
    this.sentBytes += f.bytes;
  }

  /** A new socket: nothing is on it yet; everything unacknowledged goes again. */
  rewind(): void {
    for (const s of this.sessions) {
      s.sent = s.acked;
      s.openSent = false;
      s.resuming = false;
    }
    this.sentBytes = 0;
  }

  /** Drop frames up to `ack` (cumulative); a session whose last frame is acked is done. */
  trim(s: OutSession, ack: number): void {
    let k = 0;
    while (k < s.frames.length && s.frames[k]!.seq <= ack) {
      const f = s.frames[k]!;
      this.held -= f.bytes;
      if (f.seq <= s.sent) this.sentBytes -= f.bytes;
      k++;
    }
    if (k > 0) s.frames.splice(0, k);
    s.acked = Math.max(s.acked, ack);
    s.sent = Math.max(s.sent, s.acked);
    if (s.ended && s.frames.length === 0) this.finish(s, s.failure ? 'failed' : 'done', s.failure);
  }

  finish(s: OutSession, status: SessionOutcome['status'], reason: string | null): void {
    const i = this.sessions.indexOf(s);
    if (i >= 0) this.sessions.splice(i, 1);
    for (const f of s.frames) {
      this.held -= f.bytes;
      if (f.seq <= s.sent) this.sentBytes -= f.bytes;
    }
    s.frames = [];
    s.waiting.clear();
    s.ended = true;
    const outcome: SessionOutcome = { session: s.id, status, reason, warnings: s.warnings };
    if (s.id === null) s.opened.reject(new SessionError(outcome));
    s.done.resolve(outcome);
  }

  failAll(reason: string): void {
    for (const s of [...this.sessions]) this.finish(s, 'failed', reason);
  }
}
