/**
 * The desktop's socket to `exray serve`: session and device lists, pairing updates, and the watched
 * session's events. Reconnects with the producer's back-off and keepalive (transport/reconnect.ts); after
 * a reconnection the owner re-sends its `watch` (the server replays the session from the start).
 */
import { Backoff, browserLifecycle, browserWebSocket, Keepalive, OPEN, wsUrl, type WebSocketLike } from '../../transport/reconnect.ts';
import { CLOSE, decodeBinaryFrame, TOKEN_SUBPROTOCOL_PREFIX, WIRE_PATH, WIRE_SUBPROTOCOL, type BinaryFrame, type ClientMessage, type ServerMessage } from '../../transport/wire.ts';

export type ViewerLink = { state: 'connecting' | 'open' | 'closed'; reason: string | null; final: boolean };

export interface ViewerHandlers {
  message(m: ServerMessage): void;
  binary(frame: BinaryFrame): void;
  link(status: ViewerLink): void;
  /** A (re)connected socket said hello: subscriptions must be sent again. */
  ready(): void;
}

export class ViewerSocket {
  private ws: WebSocketLike | null = null;
  private gen = 0;
  private final: string | null = null;
  private suspended = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff = new Backoff();
  private readonly keepalive = new Keepalive((n) => this.send({ t: 'ping', n }), (why) => this.lost(why));
  private readonly unlisten: () => void;

  constructor(
    private readonly token: string,
    private readonly h: ViewerHandlers,
  ) {
    this.unlisten =
      browserLifecycle()?.listen({
        hide: () => {
          this.suspended = true;
          this.drop();
          this.h.link({ state: 'closed', reason: 'page hidden', final: false });
        },
        show: (persisted) => persisted && this.wake(),
        visible: () => (this.suspended || !this.ws || this.ws.readyState > OPEN ? this.wake() : this.keepalive.probe()),
      }) ?? (() => {});
    this.connect();
  }

  send(m: ClientMessage): void {
    if (this.ws?.readyState === OPEN) this.ws.send(JSON.stringify(m));
  }

  close(): void {
    this.final = 'closed';
    this.unlisten();
    this.drop();
  }

  private connect(): void {
    this.timer = null;
    if (this.final || this.suspended || this.ws) return;
    const Ctor = browserWebSocket();
    if (!Ctor) return;
    const gen = ++this.gen;
    let ws: WebSocketLike;
    try {
      ws = new Ctor(wsUrl(WIRE_PATH), [WIRE_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX + this.token]);
    } catch (e) {
      this.retry(e instanceof Error ? e.message : String(e));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.h.link({ state: 'connecting', reason: null, final: false });
    ws.onopen = () => gen === this.gen && this.keepalive.start();
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.ws = null;
      this.keepalive.stop();
      if (ev.code === CLOSE.unauthorized || ev.code === CLOSE.revoked || ev.code === CLOSE.forbidden) {
        this.final = ev.reason || `refused by the server (${ev.code})`;
        this.h.link({ state: 'closed', reason: this.final, final: true });
        return;
      }
      this.retry(ev.reason || `connection closed (${ev.code})`);
    };
    ws.onmessage = (ev) => {
      if (gen !== this.gen) return;
      this.keepalive.heard();
      if (ev.data instanceof ArrayBuffer) {
        try {
          this.h.binary(decodeBinaryFrame(new Uint8Array(ev.data)));
        } catch (e) {
          console.warn('exray: bad binary frame from the server', e);
        }
        return;
      }
      if (typeof ev.data !== 'string') return;
      let m: ServerMessage;
      try {
        m = JSON.parse(ev.data) as ServerMessage;
      } catch {
        return;
      }
      if (m.t === 'hello') {
        this.backoff.reset();
        this.h.link({ state: 'open', reason: null, final: false });
        this.h.ready();
      }
      this.h.message(m);
    };
  }

  private retry(reason: string): void {
    this.h.link({ state: 'connecting', reason, final: false });
    if (this.final || this.suspended || this.timer !== null) return;
    this.timer = setTimeout(() => this.connect(), this.backoff.next());
  }

  private drop(): void {
    const ws = this.ws;
    this.gen++;
    this.ws = null;
    this.keepalive.stop();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      ws?.close(1000, 'bye');
    } catch {
      // already closed
    }
  }

  private lost(why: string): void {
    this.drop();
    this.retry(why);
  }

  private wake(): void {
    if (this.final) return;
    this.suspended = false;
    this.backoff.reset();
    if (this.ws && this.ws.readyState <= OPEN) return;
    this.drop();
    this.connect();
  }
}
