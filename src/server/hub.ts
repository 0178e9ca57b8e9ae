/**
 * The hub: every socket of `exray serve`, the sessions being streamed, and who watches what. The
 * producers' sessions themselves are hub-sessions.ts; the reference's reports, hub-reference.ts.
 *
 * - A producer (phone, agent) opens a session, then sends its items with consecutive seq numbers.
 *   Each item is validated, appended to the session's journal (store.ts) and only then acked, so an
 *   ack means "written to the journal file" (it survives a server crash; fsync is not awaited, so not
 *   a power cut). Duplicates (seq ≤ last, after a resume) are dropped; a gap closes the session.
 * - Work per socket and per session is serialised through promise chains: the socket loop never waits
 *   for the disk or the reference (which runs in a worker thread, reference.ts).
 * - Viewers (the desktop) get session upserts, and for a watched session everything so far (from the
 *   store) followed by live events, the reference's events and the server's metrics.
 */
import type { WebSocket } from 'ws';
import { traceToEvents } from '../trace/events.ts';
import { CLOSE, MAX_FRAME_BYTES, parseClientText, WireError, type ServerMessage } from '../transport/wire.ts';
import type { Credentials, Principal } from './security.ts';
import type { ReferenceListener, ReferenceService } from './reference.ts';
import type { SessionStore } from './store.ts';
import { DEFAULT_HUB_OPTIONS, PAUSE_BYTES, RESUME_BYTES, send, sendEvent, SessionError, toBytes, type Conn, type HubOptions } from './hub-state.ts';
import { ProducerSessions } from './hub-sessions.ts';
import { referenceListenerOf } from './hub-reference.ts';

export { DEFAULT_HUB_OPTIONS, type HubOptions };

export class Hub {
  private readonly conns = new Set<Conn>();
  private closed = false;
  private readonly sessions: ProducerSessions;
  /** The listener the reference service reports to. */
  readonly referenceListener: ReferenceListener;

  constructor(
    private readonly store: SessionStore,
    private readonly credentials: Credentials,
    options: HubOptions,
    private readonly pairing: () => { url: string; lanUrls: string[] },
  ) {
    this.sessions = new ProducerSessions(store, credentials, options, { toDesktops: (m) => this.toDesktops(m), log: (line) => this.log(line) });
    this.referenceListener = referenceListenerOf(this.sessions, store);
  }

  /** The desktop reference (set once, right after construction: it reports to referenceListener). */
  get reference(): ReferenceService | null {
    return this.sessions.reference;
  }

  set reference(r: ReferenceService | null) {
    this.sessions.reference = r;
  }

  // ---------------------------------------------------------------------------------------------
  // Connections
  // ---------------------------------------------------------------------------------------------

  attach(ws: WebSocket, principal: Principal): void {
    const conn: Conn = { ws, principal, session: null, discarding: false, watching: new Set(), chain: Promise.resolve(), queuedBytes: 0 };
    this.conns.add(conn);
    if (principal.role === 'device') this.credentials.seen(principal.deviceId, 1);
    send(conn, { t: 'hello', role: principal.role, deviceId: principal.deviceId, server: 'exray' });
    if (principal.role === 'desktop') {
      send(conn, { t: 'sessions', list: this.store.list() });
      send(conn, { t: 'devices', list: this.credentials.list() });
      send(conn, { t: 'pairing', ...this.pairing() });
    } else this.broadcastDevices();
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = toBytes(data);
      conn.queuedBytes += bytes.byteLength;
      if (conn.queuedBytes > PAUSE_BYTES && !ws.isPaused) ws.pause();
      conn.chain = conn.chain
        .then(() => this.onMessage(conn, bytes, isBinary))
        .catch((e: unknown) => this.protocolFailure(conn, e))
        .finally(() => {
          conn.queuedBytes -= bytes.byteLength;
          if (ws.isPaused && conn.queuedBytes < RESUME_BYTES) ws.resume();
        });
    });
    ws.on('close', () => {
      this.conns.delete(conn);
      if (principal.role === 'device') {
        this.credentials.seen(principal.deviceId, -1);
        this.broadcastDevices();
      }
      for (const id of conn.watching) this.sessions.get(id)?.watchers.delete(conn);
      const s = conn.session;
      if (!s || s.ended) return;
      s.producer = null;
      if (conn.failure) {
        // ws closed the socket on a bad frame (e.g. oversized): that session is over, with the reason.
        const why = conn.failure;
        this.track(conn.chain.then(() => this.sessions.failSession(s, why)));
        return;
      }
      this.sessions.startGrace(s);
    });
    ws.on('error', (e: Error & { code?: string }) => {
      // ws closes the socket itself after a protocol error; 'close' follows. Keep why, for the session.
      conn.failure = e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? `a message was larger than the ${MAX_FRAME_BYTES / 1024 / 1024} MiB frame limit` : `socket error: ${e.message}`;
    });
  }

  /** Close every socket of a revoked device. */
  revoked(deviceId: string): void {
    for (const c of this.conns) if (c.principal.role === 'device' && c.principal.deviceId === deviceId) c.ws.close(CLOSE.revoked, 'this device was unpaired');
    this.broadcastDevices();
  }

  broadcastDevices(): void {
    this.toDesktops({ t: 'devices', list: this.credentials.list() });
  }

  broadcastPairing(): void {
    this.toDesktops({ t: 'pairing', ...this.pairing() });
  }

  sessionRemoved(id: string): void {
    this.toDesktops({ t: 'removed', session: id });
  }

  isActive(id: string): boolean {
    return this.sessions.has(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.conns) c.ws.close(CLOSE.shutdown, 'server shutting down');
    await this.sessions.close();
  }

  /** Resolves when every queued socket message and session update has been processed (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.conns].map((c) => c.chain));
    await Promise.all(this.sessions.chains());
    await Promise.all([...this.background]);
  }

  private readonly background = new Set<Promise<unknown>>();

  /** Work not on any chain (session end bookkeeping): awaited by settled(). */
  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.log(String(e))).finally(() => this.background.delete(q));
    this.background.add(q);
  }

  // ---------------------------------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------------------------------

  private async onMessage(conn: Conn, bytes: Uint8Array, isBinary: boolean): Promise<void> {
    if (isBinary) return conn.session ? this.sessions.onSession(conn.session, () => this.sessions.onBinary(conn, bytes)) : this.sessions.onBinary(conn, bytes);
    const msg = parseClientText(new TextDecoder().decode(bytes));
    if (msg.t === 'ev' && conn.session) {
      // Session items run on the session's chain: a resumed socket and the dying one never interleave.
      return this.sessions.onSession(conn.session, () => this.sessions.onEvent(conn, msg));
    }
    switch (msg.t) {
      case 'ping':
        send(conn, { t: 'pong', n: msg.n });
        return;
      case 'open':
        return this.sessions.open(conn, msg.run);
      case 'resume':
        return this.sessions.resume(conn, msg.session, msg.lastAck);
      case 'ev':
        return this.sessions.onEvent(conn, msg);
      case 'capture': {
        if (conn.principal.role !== 'desktop') throw new WireError('only the desktop asks for a capture');
        let delivered = 0;
        for (const c of this.conns) {
          if (c.principal.role === 'device' && c.principal.deviceId === msg.device) {
            send(c, { t: 'capture', device: msg.device, delivered: 0 });
            delivered++;
          }
        }
        send(conn, { t: 'capture', device: msg.device, delivered });
        return;
      }
      case 'watch':
      case 'unwatch':
        if (conn.principal.role !== 'desktop') throw new WireError('only the desktop watches sessions');
        if (msg.t === 'watch') return this.watch(conn, msg.session);
        conn.watching.delete(msg.session);
        this.sessions.get(msg.session)?.watchers.delete(conn);
        return;
    }
  }


  private protocolFailure(conn: Conn, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    const s = e instanceof SessionError ? e.session : conn.session && !conn.session.ended ? conn.session : null;
    if (!(e instanceof WireError) && !(e instanceof SessionError)) this.log(`socket of ${conn.principal.deviceId}: ${message}`);
    send(conn, { t: 'error', session: s?.id ?? null, message });
    if (s) this.track(this.sessions.failSession(s, message));
    conn.session = null;
    conn.ws.close(CLOSE.protocol, message.slice(0, 120));
  }

  // ---------------------------------------------------------------------------------------------
  // Viewers
  // ---------------------------------------------------------------------------------------------

  private async watch(conn: Conn, id: string): Promise<void> {
    const info = this.store.get(id);
    if (!info) {
      send(conn, { t: 'error', session: id, message: `no session ${id}` });
      return;
    }
    const s = this.sessions.get(id);
    const replay = async (): Promise<void> => {
      for (const e of await this.store.events(id)) sendEvent(conn, id, 'edge', e);
      if (s && this.sessions.get(id) === s) {
        // Synchronous from here: no reference event can slip between the snapshot and the subscription.
        for (const e of s.refEvents) sendEvent(conn, id, 'reference', e);
        if (s.metrics.length) send(conn, { t: 'metrics', session: id, items: s.metrics });
        s.watchers.add(conn);
        conn.watching.add(id);
        return;
      }
      const ref = await this.store.readReference(id).catch(() => null);
      if (ref) for (const e of traceToEvents(ref)) sendEvent(conn, id, 'reference', e);
      const cmp = await this.store.readJson(id, 'compare');
      const latest = this.store.get(id);
      if (cmp && latest?.verdict) send(conn, { t: 'compared', session: id, verdict: latest.verdict, firstDivergent: latest.firstDivergent, comparison: cmp });
      const dx = await this.store.readJson(id, 'diagnosis');
      if (dx) send(conn, { t: 'diagnosis', session: id, cause: latest?.cause ?? null, diagnosis: dx });
    };
    if (s) await this.sessions.onSession(s, replay);
    else await replay();
  }



  private toDesktops(msg: ServerMessage): void {
    for (const c of this.conns) if (c.principal.role === 'desktop') send(c, msg);
  }




  private log(line: string): void {
    if (!this.closed) process.stderr.write(`exray serve: ${line}\n`);
  }
}
