/**
 * What every exray socket client needs to survive a phone: reconnect back-off, an app-level keepalive
 * (a suspended iOS page can hold a "open" WebSocket that is long dead, with no close event) and the
 * page lifecycle (pagehide / pageshow / visibilitychange). Shared by the producer (socket.ts) and the
 * desktop viewer socket; pure apart from the optional window/document hooks.
 */

export interface BackoffOptions {
  /** First delay (ms), doubled after each failed attempt. */
  initialMs?: number;
  maxMs?: number;
  /** At most this many attempts in any 60 s (a server that accepts then drops must not be hammered). */
  maxPerMinute?: number;
}

export class Backoff {
  private delay: number;
  private readonly attempts: number[] = [];
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly maxPerMinute: number;

  constructor(o: BackoffOptions = {}) {
    this.initialMs = o.initialMs ?? 250;
    this.maxMs = o.maxMs ?? 5000;
    this.maxPerMinute = o.maxPerMinute ?? 12;
    this.delay = this.initialMs;
  }

  /** Delay before the next attempt (ms), and count that attempt. */
  next(now: number = Date.now()): number {
    while (this.attempts.length > 0 && now - this.attempts[0]! >= 60_000) this.attempts.shift();
    let wait = this.delay;
    this.delay = Math.min(this.maxMs, this.delay * 2);
    if (this.attempts.length >= this.maxPerMinute) wait = Math.max(wait, this.attempts[0]! + 60_000 - now);
    this.attempts.push(now + wait);
    return wait;
  }

  /** A connection worked: the next loss starts again at the initial delay (the per-minute bound stays). */
  reset(): void {
    this.delay = this.initialMs;
  }
}

export interface KeepaliveOptions {
  intervalMs?: number;
  timeoutMs?: number;
}

/**
 * `{t:'ping', n}` every `intervalMs`; anything heard from the server counts as alive (a slow link may
 * queue the pong behind megabytes of tensors, while acks keep arriving). No message for `timeoutMs`
 * after a ping → `dead()`, and the owner reconnects.
 */
export class Keepalive {
  private timer: ReturnType<typeof setInterval> | null = null;
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private n = 0;
  /** When the oldest ping not followed by any message was sent. */
  private unanswered: number | null = null;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly ping: (n: number) => void,
    private readonly dead: (why: string) => void,
    o: KeepaliveOptions = {},
  ) {
    this.intervalMs = o.intervalMs ?? 15_000;
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.timer = null;
    this.probeTimer = null;
    this.unanswered = null;
  }

  heard(): void {
    this.unanswered = null;
  }

  /** Ping now and declare the socket dead unless something arrives within `ms` (page became visible). */
  probe(ms = 5000): void {
    const sent = Date.now();
    this.unanswered ??= sent;
    this.ping(++this.n);
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      if (this.unanswered !== null && this.unanswered <= sent) this.dead(`no answer from the server within ${Math.round(ms / 1000)} s of waking up`);
    }, ms);
  }

  private tick(): void {
    const now = Date.now();
    if (this.unanswered !== null && now - this.unanswered >= this.timeoutMs) {
      this.dead(`no answer from the server in ${Math.round(this.timeoutMs / 1000)} s`);
      return;
    }
    this.unanswered ??= now;
    this.ping(++this.n);
  }
}

/** The page events a socket client reacts to; injectable so tests need no DOM. */
export interface PageLifecycle {
  /** Subscribe; returns the unsubscriber. */
  listen(handlers: { hide(): void; show(persisted: boolean): void; visible(): void }): () => void;
}

/**
 * The browser's lifecycle, or null outside a page. `pagehide` closes the socket so the page can enter
 * the back/forward cache (an open WebSocket disqualifies it); `pageshow` with `persisted` comes back
 * from it; `visibilitychange` to visible after being hidden catches iOS, which suspends sockets
 * without a close event.
 */
export function browserLifecycle(): PageLifecycle | null {
  if (typeof window === 'undefined' || typeof document === 'undefined') return null;
  return {
    listen(h) {
      const onHide = (): void => h.hide();
      const onShow = (e: PageTransitionEvent): void => h.show(e.persisted);
      const onVis = (): void => {
        if (document.visibilityState === 'visible') h.visible();
      };
      window.addEventListener('pagehide', onHide);
      window.addEventListener('pageshow', onShow);
      document.addEventListener('visibilitychange', onVis);
      return () => {
        window.removeEventListener('pagehide', onHide);
        window.removeEventListener('pageshow', onShow);
        document.removeEventListener('visibilitychange', onVis);
      };
    },
  };
}

/** Minimal WebSocket surface the clients use; tests inject a fake class with the same shape. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: 'blob' | 'arraybuffer';
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketCtor = new (url: string, protocols: string[]) => WebSocketLike;

/**
 * The browser's WebSocket as a WebSocketCtor. The cast is only about handler parameter types: the DOM
 * declares MessageEvent / CloseEvent, of which the clients read `data`, `code` and `reason`.
 */
export function browserWebSocket(): WebSocketCtor | null {
  return typeof WebSocket === 'undefined' ? null : (WebSocket as unknown as WebSocketCtor);
}

/** `ws://` or `wss://` (matching the page) on the page's own host. */
export function wsUrl(path: string, loc: { protocol: string; host: string } = location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${path}`;
}

export const OPEN = 1;
