/**
 * Producer side of the `exray serve` socket (wire.ts): a phone streams each run as a session.
 *
 * `begin(run)` opens a session, `send()` takes the run's TraceEvents (a TraceTransport's `send`), the
 * session ends with the run's `run-end` / `run-error`, and `end()` resolves once the server acked it
 * all. Sessions are strictly one after another on the socket (`ev` frames carry no session id): a
 * session begun while the previous one still has unacknowledged frames waits, its frames queued.
 *
 * Every frame gets the session's next seq when it is made and is kept, byte-identical, until the
 * server's cumulative `ack` covers it: that is the resend buffer. After a lost connection the client
 * reconnects with back-off, says `resume` with its last ack, and resends every frame above the
 * server's `resumed.ack` (the server drops duplicates).
 *
 * Memory and backpressure, honestly:
 * - Frames are handed to the WebSocket only while `bufferedAmount` ≤ `highWaterMark`; the rest wait
 *   in the resend buffer (polled every 20 ms: WebSocket has no drain event).
 * - The resend buffer is bounded (`maxBufferedBytes`, all sessions together). `congested` /
 *   `whenWritable()` let a producer that can wait (between backends) let it drain first.
 * - A trace worker cannot be paused from here: its instrumenter emits node events synchronously while
 *   the model runs (and GPU read-backs are not ours to delay). So a node output's blob that would
 *   overflow the buffer is left out: the node record that follows loses its `blob` reference (its
 *   statistics stay, so that node is compared by bounds, as in `stats` capture), and run-end gets a
 *   warning with the count (session-queue.ts). Later blobs are sent again once there is room.
 * - What a trace cannot lack (run-start's inputs, run-end's outputs) is sent within 1/8 slack over the
 *   bound; past that, and for text events past it, the session fails instead of growing. No further
 *   frames are taken, one small `run-error` ("link too slow: N MiB unacknowledged") is queued so the
 *   server closes the session with that reason, and `end()` reports it. Use `stats` capture on slow
 *   links: a MobileNet-size model in `tensors` mode is 50-100 MiB per run.
 * - Network trouble is never thrown at the caller: it is reported through `onStatus`. Only a refused
 *   or failed session rejects `begin()` (and `end()` resolves with that outcome).
 */
import { CLOSE, TOKEN_SUBPROTOCOL_PREFIX, WIRE_SUBPROTOCOL, type ClientMessage, type RunMeta, type ServerMessage } from './wire.ts';
import type { StreamListener, StreamMessage, TraceTransport } from './types.ts';
import { Backoff, browserLifecycle, browserWebSocket, Keepalive, OPEN, type BackoffOptions, type KeepaliveOptions, type PageLifecycle, type WebSocketCtor, type WebSocketLike } from './reconnect.ts';
import { MiB, SessionQueue, type SessionOutcome } from './session-queue.ts';

export { SessionError, type SessionOutcome } from './session-queue.ts';

export type LinkState = 'connecting' | 'open' | 'resuming' | 'closed';

export interface LinkStatus {
  state: LinkState;
  /** Why the link is not open (last close, the server's refusal), or null. */
  reason: string | null;
  /** Closed for good: unauthorized, revoked, or `close()`; no reconnection follows. */
  final: boolean;
  /** Bytes of frames not yet acknowledged (the resend buffer). */
  unackedBytes: number;
  /** Of those, bytes not yet handed to the socket. */
  unsentBytes: number;
  /** Sessions begun and not yet fully acknowledged. */
  sessions: number;
}

export interface SocketProducerOptions {
  url: string;
  /** Device token (or the desktop's); travels as a subprotocol, never in the URL. */
  token: string;
  WebSocket?: WebSocketCtor;
  /** Resend buffer bound, bytes (default 128 MiB: a whole MobileNetV2 full capture, 88 MB, fits). */
  maxBufferedBytes?: number;
  /** No ws.send while `bufferedAmount` exceeds this (default 4 MiB). */
  highWaterMark?: number;
  onStatus?: (status: LinkStatus) => void;
  backoff?: BackoffOptions;
  keepalive?: KeepaliveOptions;
  /** Page events to follow; default the browser's (null in Node). */
  lifecycle?: PageLifecycle | null;
  /** The desktop asked for a capture of the next inference (the agent's producer). */
  onCapture?: () => void;
}

const CONNECT_TIMEOUT_MS = 10_000;
const FINAL_CLOSES: Record<number, string> = {
  [CLOSE.unauthorized]: 'this phone was unpaired: scan the QR code again',
  [CLOSE.revoked]: 'this phone was unpaired: scan the QR code again',
  [CLOSE.forbidden]: 'the server refused this device',
};

export class SocketProducer implements TraceTransport {
  private ws: WebSocketLike | null = null;
  private gen = 0;
  /** The server said hello on the current socket. */
  private ready = false;
  private final: string | null = null;
  private suspended = false;
  private reason: string | null = null;
  /** Generation of the socket on which the server failed a session by message (see onClose). */
  private failedHere = -1;
  private readonly q: SessionQueue;
  private pumpTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private waiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly keepalive: Keepalive;
  private readonly Ctor: WebSocketCtor | null;
  private readonly hwm: number;
  private readonly unlisten: () => void;

  constructor(private readonly o: SocketProducerOptions) {
    this.Ctor = o.WebSocket ?? browserWebSocket();
    this.q = new SessionQueue(o.maxBufferedBytes ?? 128 * MiB);
    this.hwm = o.highWaterMark ?? 4 * MiB;
    this.backoff = new Backoff(o.backoff);
    this.keepalive = new Keepalive((n) => this.text({ t: 'ping', n }), (why) => this.lost(why), o.keepalive);
    const lifecycle = o.lifecycle === undefined ? browserLifecycle() : o.lifecycle;
    this.unlisten = lifecycle?.listen({ hide: () => this.onHide(), show: (p) => p && this.wake(), visible: () => this.onVisible() }) ?? (() => {});
    this.connect();
  }

  // ---- producer API ---------------------------------------------------------------------------

  /**
   * Open a session for one run; resolves with its id once the server opened it (after the previous
   * session is fully acknowledged). Rejects with SessionError when refused or failed before opening.
   */
  begin(run: RunMeta, photo?: Uint8Array): Promise<string> {
    const s = this.q.create(run, photo, this.final);
    this.pump();
    return s.opened.promise;
  }

  /** One event of the current session (the message's stream name is not used: the session is). */
  send(message: StreamMessage): void {
    const s = this.q.current;
    if (!s || s.ended) return;
    this.q.add(s, message.event);
    this.pump();
  }

  /** Resolves when the current session is fully acknowledged (or failed / refused). */
  end(): Promise<SessionOutcome> {
    return this.q.current?.done.promise ?? Promise.resolve({ session: null, status: 'failed', reason: 'no session was begun', warnings: [] });
  }

  /** Frames wait for the socket, or the resend buffer is more than half full. */
  get congested(): boolean {
    return !this.final && (this.q.held - this.q.sentBytes > 0 || this.q.held > this.q.maxBuffered / 2);
  }

  /** Resolves when not congested (at once after a final close: nothing will drain any more). */
  whenWritable(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get status(): LinkStatus {
    const head = this.q.head;
    const lostData = head !== undefined && this.reason !== null;
    const state: LinkState = this.final || this.suspended ? 'closed' : this.ready ? (head?.resuming ? 'resuming' : 'open') : lostData ? 'resuming' : 'connecting';
    return { state, reason: this.final ?? this.reason, final: this.final !== null, unackedBytes: this.q.held, unsentBytes: this.q.held - this.q.sentBytes, sessions: this.q.sessions.length };
  }

  /** TraceTransport compatibility: a producer has nothing to hear. */
  subscribe(_listener: StreamListener): () => void {
    return () => {};
  }

  /** Close for good; unfinished sessions fail with `closed by the page`. */
  close(): void {
    if (this.final) return;
    this.final = 'closed by the page';
    this.unlisten();
    this.drop(1000, 'closed');
    this.q.failAll(this.final);
    this.report();
  }

  /** Hand waiting frames of the head session to the socket, up to the high-water mark. */
  private pump(): void {
    const ws = this.ws;
    const s = this.q.head;
    if (ws && this.ready && s && ws.readyState === OPEN) {
      if (s.id === null) {
        if (!s.openSent) {
          s.openSent = true;
          this.text({ t: 'open', run: s.meta });
        }
      } else if (!s.resuming) {
        for (const f of this.q.unsent(s)) {
          if (ws.bufferedAmount > this.hwm) {
            this.pumpTimer ??= setTimeout(() => {
              this.pumpTimer = null;
              this.pump();
            }, 20);
            break;
          }
          ws.send(f.data);
          this.q.markSent(s, f);
        }
      }
    }
    this.report();
  }

  private report(): void {
    if (!this.congested && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w();
    this.o.onStatus?.(this.status);
  }

  private text(m: ClientMessage): void {
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify(m));
  }

  // ---- connection -----------------------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null;
    if (this.final || this.suspended || this.ws) return;
    const gen = ++this.gen;
    this.ready = false;
    // Everything unacknowledged goes again on the new socket (after `resumed` says from where).
    this.q.rewind();
    if (!this.Ctor) {
      this.final = 'this browser has no WebSocket';
      this.report();
      return;
    }
    let ws: WebSocketLike;
    try {
      ws = new this.Ctor(this.o.url, [WIRE_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + this.o.token]);
    } catch (e) {
      this.reason = `cannot open the socket: ${e instanceof Error ? e.message : String(e)}`;
      this.retry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (ev) => gen === this.gen && this.onMessage(ev.data);
    ws.onclose = (ev) => gen === this.gen && this.onClose(ev.code, ev.reason);
    ws.onerror = () => {}; // a close event follows; its code says more
    ws.onopen = () => gen === this.gen && this.keepalive.start();
    // A socket can hang while connecting (a phone between networks): give up on it after a while.
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (gen === this.gen && !this.ready) this.lost('no answer from the server while connecting');
    }, CONNECT_TIMEOUT_MS);
    this.report();
  }

  private onMessage(data: unknown): void {
    this.keepalive.heard();
    if (typeof data !== 'string') return; // the server sends producers no binary frames
    let m: ServerMessage;
    try {
      m = JSON.parse(data) as ServerMessage;
    } catch {
      return;
    }
    const head = this.q.head;
    switch (m.t) {
      case 'hello':
        this.clearConnectTimer();
        this.ready = true;
        this.reason = null;
        this.backoff.reset();
        if (head?.id) {
          head.resuming = true;
          this.text({ t: 'resume', session: head.id, lastAck: head.acked });
        }
        break;
      case 'opened':
        if (head && head.id === null && head.openSent) {
          head.id = m.session;
          head.sent = 0;
          head.opened.resolve(m.session);
        }
        break;
      case 'resumed': {
        const s = this.q.find(m.session);
        if (s) {
          s.resuming = false;
          s.sent = s.acked;
          this.q.trim(s, m.ack);
        }
        break;
      }
      case 'ack': {
        const s = this.q.find(m.session);
        if (s) this.q.trim(s, m.seq);
        break;
      }
      case 'refused':
      case 'error': {
        const s = this.q.find(m.session) ?? (m.session === null && head?.id === null && head.openSent ? head : undefined);
        const why = m.t === 'refused' ? m.reason : `protocol error: ${m.message}`;
        if (s) {
          this.q.finish(s, m.t === 'refused' ? 'refused' : 'failed', why);
          this.failedHere = this.gen;
        } else this.reason = why;
        // After an error the server closes this socket: send nothing more on it, start afresh.
        if (m.t === 'error') return this.lost(why);
        break;
      }
      case 'capture':
        this.o.onCapture?.();
        break;
      default:
        break;
    }
    this.pump();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private onClose(code: number, reason: string): void {
    this.clearConnectTimer();
    this.ws = null;
    this.ready = false;
    this.keepalive.stop();
    const finalWhy = FINAL_CLOSES[code];
    if (finalWhy) {
      this.final = finalWhy;
      this.q.failAll(finalWhy);
      this.report();
      return;
    }
    const why = reason || `connection closed (${code})`;
    // The server closed because of what the head session sent: resending it would fail again. (When
    // it said which session first, that one has failed already: the next in line is innocent.)
    const head = this.q.head;
    if ((code === CLOSE.protocol || code === CLOSE.tooLarge) && head && this.failedHere !== this.gen) this.q.finish(head, 'failed', why);
    this.reason = why;
    this.retry();
  }

  private retry(): void {
    this.report();
    if (this.final || this.suspended || this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoff.next());
  }

  /** Close the current socket without waiting for its close event (it may never come). */
  private drop(code: number, why: string): void {
    const ws = this.ws;
    this.gen++;
    this.ws = null;
    this.ready = false;
    this.keepalive.stop();
    this.clearConnectTimer();
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    try {
      ws?.close(code, why);
    } catch {
      // already closed
    }
  }

  /** The keepalive found the socket dead. */
  private lost(why: string): void {
    this.drop(4000, why);
    this.reason = why;
    this.retry();
  }

  private onHide(): void {
    if (this.final) return;
    this.suspended = true;
    this.drop(1000, 'page hidden');
    this.report();
  }

  /** Back from the bfcache, or visible with the socket gone: reconnect now. */
  private wake(): void {
    if (this.final) return;
    this.suspended = false;
    this.backoff.reset();
    if (this.ws && this.ws.readyState <= OPEN) return;
    this.drop(1000, 'reconnecting');
    this.connect();
  }

  private onVisible(): void {
    if (this.suspended || !this.ws || this.ws.readyState > OPEN) this.wake();
    else if (this.ready) this.keepalive.probe();
  }
}
