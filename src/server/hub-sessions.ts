/**
 * The producers' sessions of the hub (hub.ts): opening and resuming them, each item validated,
 * journaled (store.ts) and acked in order, and how a session ends (done, refused, failed,
 * incomplete after its grace). The hub keeps the sockets, the viewers and message dispatch; what a
 * session tells the desktops goes out through `out`.
 */
import { TraceFormatError } from '../trace/errors.ts';
import { parseJsonEvent } from '../trace/event-schema.ts';
import type { BlobData, RunStartEvent, TraceEvent } from '../trace/types.ts';
import { peekBinaryFrame, WireError, type ClientMessage, type RunMeta, type ServerMessage, type SessionInfo } from '../transport/wire.ts';
import type { Credentials } from './security.ts';
import type { ReferenceService } from './reference.ts';
import { newSessionId, openedSession, StoreLimitError, type SessionStore, type SessionWriter } from './store.ts';
import { describeDevice } from './user-agent.ts';
import { activeSession, Limiter, send, sendEvent, SessionError, type Active, type Conn, type HubOptions } from './hub-state.ts';

/** What the sessions need from the hub. */
export interface SessionsOut {
  /** Every desktop socket gets `msg`. */
  toDesktops(msg: ServerMessage): void;
  log(line: string): void;
}

export class ProducerSessions {
  private readonly active = new Map<string, Active>();
  /** Sessions left `streaming` by a previous server process: incomplete unless resumed in time. */
  private readonly orphans = new Map<string, ReturnType<typeof setTimeout>>();
  private closed = false;
  private readonly finalizing = new Limiter(2);
  /** The desktop reference (set once, right after construction). */
  reference: ReferenceService | null = null;

  constructor(
    private readonly store: SessionStore,
    private readonly credentials: Credentials,
    private readonly options: HubOptions,
    private readonly out: SessionsOut,
  ) {
    for (const info of store.list()) {
      if (info.status !== 'streaming') continue;
      this.orphans.set(
        info.id,
        setTimeout(() => {
          this.orphans.delete(info.id);
          void this.markIncompleteStored(info.id, 'the server restarted and the phone did not resume the run');
        }, options.resumeGraceMs),
      );
    }
  }

  get(id: string): Active | undefined {
    return this.active.get(id);
  }

  has(id: string): boolean {
    return this.active.has(id);
  }

  /** Every session's queued work (tests, shutdown). */
  chains(): Promise<void>[] {
    return [...this.active.values()].map((s) => s.chain);
  }

  /** Stop every timer and close every open journal (the server shuts down). */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.orphans.values()) clearTimeout(t);
    for (const s of this.active.values()) {
      if (s.grace) clearTimeout(s.grace);
      if (s.infoScheduled) clearTimeout(s.infoScheduled);
      await s.chain.catch(() => {});
      await s.writer.close().catch(() => {});
    }
    this.active.clear();
  }

  /** Run `work` after everything queued on the session; errors reach the caller (the socket's chain). */
  onSession(s: Active, work: () => Promise<void>): Promise<void> {
    const p = s.chain.then(work);
    s.chain = p.catch(() => {});
    return p;
  }

  async open(conn: Conn, run: RunMeta): Promise<void> {
    if (conn.session && !conn.session.ended) throw new WireError(`session ${conn.session.id} is still open on this socket; end it (run-end) before opening another`);
    conn.discarding = false;
    const id = newSessionId();
    const deviceId = conn.principal.deviceId;
    const info = openedSession({
      id,
      deviceId,
      device: describeDevice(run.device.userAgent, run.device.name ?? (conn.principal.role === 'device' ? this.credentials.deviceName(deviceId) : 'desktop')),
      userAgent: run.device.userAgent,
      model: { name: run.model.name, sha256: run.model.sha256, format: run.model.format },
      label: run.label,
      backend: run.backend,
      capture: run.capture,
    });
    let writer: SessionWriter;
    try {
      writer = await this.store.create(info);
    } catch (e) {
      if (e instanceof StoreLimitError) {
        conn.discarding = true;
        send(conn, { t: 'refused', session: null, reason: e.message });
        return;
      }
      throw e;
    }
    if (await this.closedMeanwhile(writer)) return;
    const s = this.newActive(info, writer, conn, run.photo ?? null);
    const referenced = [...this.active.values()].filter((a) => a.referenced).length;
    if (this.reference && referenced < this.options.maxReferenced) {
      s.referenced = true;
      s.info.reference = this.reference.backend;
    } else {
      s.info.referenceNote = this.reference ? `no reference: ${referenced} sessions are being compared already (limit ${this.options.maxReferenced})` : 'no reference: the server runs without one';
    }
    conn.session = s;
    send(conn, { t: 'opened', session: id });
    await this.updateInfo(id, { reference: s.info.reference, referenceNote: s.info.referenceNote });
  }

  /**
   * The hub was closed while the store opened `writer` (close() saw no such session): close the
   * journal here, as close() would have, instead of leaving its file handle to the garbage collector.
   */
  private async closedMeanwhile(writer: SessionWriter): Promise<boolean> {
    if (!this.closed) return false;
    await writer.close();
    return true;
  }

  private newActive(info: SessionInfo, writer: SessionWriter, producer: Conn | null, photo: RunMeta['photo'] | null): Active {
    const s = activeSession(info, writer, producer, photo, this.options);
    this.active.set(info.id, s);
    return s;
  }

  async resume(conn: Conn, id: string, _lastAck: number): Promise<void> {
    if (conn.session && !conn.session.ended && conn.session.id !== id) throw new WireError(`session ${conn.session.id} is open on this socket; cannot resume ${id}`);
    const info = this.store.get(id);
    if (!info || info.deviceId !== conn.principal.deviceId) {
      send(conn, { t: 'refused', session: id, reason: `no session ${id} of this device on the server` });
      return;
    }
    let s = this.active.get(id);
    if (!s) {
      if (info.status !== 'streaming' && info.status !== 'incomplete') {
        // Over already (done/failed/refused): tell the producer everything it sent is in.
        send(conn, { t: 'resumed', session: id, ack: Number.MAX_SAFE_INTEGER });
        return;
      }
      const orphan = this.orphans.get(id);
      if (orphan) clearTimeout(orphan);
      this.orphans.delete(id);
      const writer = await this.store.writer(id);
      if (await this.closedMeanwhile(writer)) return;
      s = this.newActive(info, writer, conn, null);
      // A server restart lost the in-memory state: rebuild it from what was stored.
      const stored = await this.store.resumeState(id);
      for (const e of stored.events) {
        if (e.type === 'run-start') s.started = true;
        if (this.reference && s.info.reference) this.reference.edgeEvent(id, e);
      }
      s.referenced = this.reference !== null && s.info.reference !== null;
      // Killed between two chunks of one blob: the producer resumes with the next chunk, so the
      // assembler takes the chunks already journaled first (they are not sent again).
      for (const payload of stored.partialBlob) s.assembler.push(peekBinaryFrame(payload), s.referenced);
      if (info.status === 'incomplete') await this.updateInfo(id, { status: 'streaming', reason: null });
    }
    if (s.grace) clearTimeout(s.grace);
    s.grace = null;
    if (s.producer && s.producer !== conn) s.producer.session = null;
    s.producer = conn;
    conn.session = s;
    conn.discarding = false;
    const active = s;
    // After what the previous socket still had queued: the ack then covers all of it.
    const tell = (): void => send(conn, { t: 'resumed', session: id, ack: active.lastSeq });
    await this.onSession(active, async () => tell());
  }

  /** Checks the seq of a session item: true to process, false for a duplicate; throws on a gap. */
  private accept(conn: Conn, seq: number): Active | null {
    const s = conn.session;
    if (!s || s.ended) {
      if (conn.discarding || s?.ended) return null;
      throw new WireError('no open session on this socket: send open or resume first');
    }
    if (seq <= s.lastSeq) {
      this.scheduleAck(s);
      return null;
    }
    if (seq !== s.lastSeq + 1) throw new SessionError(s, `out-of-order message: seq ${seq} after ${s.lastSeq} (expected ${s.lastSeq + 1})`);
    return s;
  }

  async onEvent(conn: Conn, msg: Extract<ClientMessage, { t: 'ev' }>): Promise<void> {
    const s = this.accept(conn, msg.seq);
    if (!s) return;
    let event;
    try {
      event = parseJsonEvent(msg.event, `session ${s.id}`);
    } catch (e) {
      throw new SessionError(s, e instanceof TraceFormatError ? e.problem : String(e));
    }
    if (event.type === 'run-start') {
      if (s.started) throw new SessionError(s, "second 'run-start' in one session");
      s.started = true;
    } else if (!s.started && event.type !== 'run-error') throw new SessionError(s, `'${event.type}' before 'run-start'`);
    await this.append(s, () => s.writer.appendEvent(msg.seq, event), msg.seq);
    if (s.ended) return;
    for (const w of s.watchers) sendEvent(w, s.id, 'edge', event);
    if (s.referenced) this.reference?.edgeEvent(s.id, event);
    if (event.type === 'run-start') this.onRunStart(s, event);
    if (event.type === 'node') {
      s.info.nodes++;
      this.scheduleInfo(s);
    }
    if (event.type === 'run-end' || event.type === 'run-error') await this.finish(s);
  }

  async onBinary(conn: Conn, bytes: Uint8Array): Promise<void> {
    const frame = peekBinaryFrame(bytes);
    const s = this.accept(conn, frame.seq);
    if (!s) return;
    if (frame.kind === 'attachment') {
      if (frame.meta.id !== 'photo' || !s.photo) throw new SessionError(s, `unexpected attachment '${frame.meta.id}' (only the photo announced in open)`);
      const photo = s.photo;
      const size = frame.meta.total ?? frame.body.byteLength;
      if (size !== photo.bytes || size > this.options.maxPhotoBytes) {
        throw new SessionError(s, `photo of ${size} bytes (announced ${photo.bytes}, limit ${this.options.maxPhotoBytes})`);
      }
      let whole: { data: Uint8Array } | null;
      try {
        whole = s.photoParts.push(frame);
      } catch (e) {
        throw new SessionError(s, e instanceof Error ? e.message : String(e));
      }
      await this.append(s, async () => {
        await s.writer.appendFrame(frame.seq, bytes);
        if (whole) await s.writer.putPhoto(whole.data, photo.fileName, photo.mimeType);
      }, frame.seq);
      if (!whole) return;
      s.info.hasPhoto = true;
      if (s.referenced) this.reference?.photo(s.id, whole.data.slice(), photo.fileName);
      this.scheduleInfo(s);
      return;
    }
    let blob: { id: string; data: BlobData | null } | null;
    try {
      // Values are assembled only when someone needs them now; the journal keeps the raw frames.
      // (A viewer that starts watching in the middle of a chunked blob misses that one blob live.)
      blob = s.assembler.push(frame, s.referenced || s.watchers.size > 0);
    } catch (e) {
      throw new SessionError(s, e instanceof Error ? e.message : String(e));
    }
    await this.append(s, () => s.writer.appendFrame(frame.seq, bytes), frame.seq);
    s.info.blobBytes += frame.body.byteLength;
    if (!blob?.data) return;
    const event: TraceEvent = { type: 'blob', id: blob.id, data: blob.data };
    for (const w of s.watchers) sendEvent(w, s.id, 'edge', event);
    // The reference service takes ownership; it copies a view of a larger buffer (ws's frame) itself.
    if (s.referenced) this.reference?.edgeEvent(s.id, event);
  }

  /** Append one item to the journal; a store limit refuses the session, nothing partial is left. */
  private async append(s: Active, write: () => Promise<void>, seq: number): Promise<void> {
    try {
      await write();
    } catch (e) {
      if (e instanceof StoreLimitError) {
        await this.refuse(s, e.message);
        return;
      }
      throw e;
    }
    s.lastSeq = seq;
    this.scheduleAck(s);
  }

  private onRunStart(s: Active, e: RunStartEvent): void {
    s.info.declaredNodes = e.model.nodeCount;
    const gl = e.environment.webgl;
    const gpu = e.environment.webgpu;
    s.info.gpu = gl?.renderer ?? (gpu ? gpu.description || `${gpu.vendor} ${gpu.architecture}`.trim() : null);
    if (e.model.sha256 && e.model.sha256 !== s.info.model.sha256) s.info.model = { ...s.info.model, sha256: e.model.sha256 };
    this.scheduleInfo(s);
  }

  private async finish(s: Active): Promise<void> {
    s.ended = true;
    if (s.producer) this.flushAck(s);
    try {
      // finalize() folds and validates the journal (in the store's worker), and records done (or
      // failed, with run-error's message). Each returns the whole trace: a few at a time bound memory.
      await this.finalizing.run(() => s.writer.finalize());
      await this.updateInfo(s.id, {});
    } catch (e) {
      await this.updateInfo(s.id, { status: 'failed', reason: `the trace did not validate: ${e instanceof Error ? e.message : String(e)}` });
    }
    this.reference?.end(s.id);
    this.release(s);
  }

  private async refuse(s: Active, reason: string): Promise<void> {
    s.ended = true;
    if (s.producer) {
      s.producer.discarding = true;
      send(s.producer, { t: 'refused', session: s.id, reason });
    }
    await s.writer.markIncomplete(reason).catch(() => {});
    await this.updateInfo(s.id, { status: 'refused', reason });
    this.reference?.end(s.id);
    s.referenced = false;
    this.release(s);
  }

  async failSession(s: Active, reason: string): Promise<void> {
    if (s.ended) return;
    s.ended = true;
    await s.writer.markIncomplete(reason).catch(() => {});
    await this.updateInfo(s.id, { status: 'failed', reason });
    this.reference?.end(s.id);
    s.referenced = false;
    this.release(s);
  }

  startGrace(s: Active): void {
    if (s.grace) clearTimeout(s.grace);
    s.grace = setTimeout(() => {
      s.grace = null;
      if (s.producer || s.ended) return;
      s.ended = true;
      const reason = `the device disconnected and did not resume within ${Math.round(this.options.resumeGraceMs / 1000)} s`;
      void s.chain.then(async () => {
        await s.writer.markIncomplete(reason).catch(() => {});
        await this.updateInfo(s.id, { status: 'incomplete', reason });
        this.reference?.end(s.id);
        s.referenced = false;
        this.release(s);
      });
    }, this.options.resumeGraceMs);
  }

  private async markIncompleteStored(id: string, reason: string): Promise<void> {
    if (this.closed || this.active.has(id)) return;
    try {
      const w = await this.store.writer(id);
      await w.markIncomplete(reason);
      await w.close();
      await this.updateInfo(id, { status: 'incomplete', reason });
    } catch (e) {
      this.log(`${id}: ${String(e)}`);
    }
  }

  /** Drop an ended session from memory once its reference work is over too. */
  release(s: Active): void {
    if (!s.ended || s.referenced) return;
    if (s.infoScheduled) clearTimeout(s.infoScheduled);
    s.infoScheduled = null;
    void s.chain.then(() => s.writer.close()).catch(() => {});
    if (this.active.get(s.id) === s) this.active.delete(s.id);
    for (const w of s.watchers) w.watching.delete(s.id);
  }

  toWatchers(s: Active, msg: ServerMessage): void {
    for (const w of s.watchers) send(w, msg);
  }

  private scheduleAck(s: Active): void {
    if (s.ackScheduled) return;
    s.ackScheduled = true;
    setImmediate(() => this.flushAck(s));
  }

  private flushAck(s: Active): void {
    s.ackScheduled = false;
    if (s.producer) send(s.producer, { t: 'ack', session: s.id, seq: s.lastSeq });
  }

  /** Session list updates to the desktops, at most ~4 per second per session while nodes stream in. */
  private scheduleInfo(s: Active): void {
    if (s.infoScheduled) return;
    s.infoScheduled = setTimeout(() => {
      s.infoScheduled = null;
      void this.updateInfo(s.id, {
        nodes: s.info.nodes,
        declaredNodes: s.info.declaredNodes,
        gpu: s.info.gpu,
        blobBytes: s.info.blobBytes,
        hasPhoto: s.info.hasPhoto,
        model: s.info.model,
      });
    }, 250);
  }

  async updateInfo(id: string, patch: Partial<SessionInfo>): Promise<void> {
    const s = this.active.get(id);
    try {
      const info = await this.store.update(id, { ...(s ? { nodes: s.info.nodes, blobBytes: s.info.blobBytes, declaredNodes: s.info.declaredNodes, gpu: s.info.gpu, hasPhoto: s.info.hasPhoto } : {}), ...patch, updatedAt: new Date().toISOString() });
      if (s) s.info = { ...info };
      this.out.toDesktops({ t: 'session', info });
    } catch (e) {
      this.log(`${id}: session.json: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  log(line: string): void {
    this.out.log(line);
  }
}
