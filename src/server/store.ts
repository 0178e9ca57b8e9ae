/**
 * The on-disk session store of `exray serve` (Node): one directory per session under
 * `<data>/sessions/<id>/` (layout in store-files.ts, journal format in journal.ts).
 *
 * The in-memory index (SessionInfo per session, bytes per file) is rebuilt from the session.json
 * files at open, so the directory is the only state. session.json and every whole-file artefact are
 * written with writeFileAtomic; the journal is appended as data arrives. Per-session writes of
 * session.json are chained so the file always ends up holding the latest in-memory record.
 */
import { mkdir, open, readdir, readFile, rm, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Trace, TraceEvent } from '../trace/types.ts';
import type { SessionInfo } from '../transport/wire.ts';
import { fsyncDir, removeStaleTemps, writeFileAtomic } from './atomic.ts';
import { JournalSummary, scanJournal } from './journal.ts';
import { JournalWriter, type SessionWriter, type WriterHost } from './session-writer.ts';
import {
  assertSessionId,
  DEFAULT_LIMITS,
  FILES,
  SESSIONS_DIR,
  sessionDir,
  StoreLimitError,
  storedSessionSchema,
  toInfo,
  UnknownSessionError,
  type StoredSession,
  type StoreLimits,
} from './store-files.ts';
import { exportSessionDir, readJsonFile, readOptional } from './store-read.ts';
import { rebuildError, traceBuffers } from './trace-protocol.ts';
import { sharedTraceWorker, TraceWorkerError, type TraceWorker } from './trace-worker-client.ts';

export { newSessionId, openedSession, type NewSession, SessionIdError, StoreLimitError, UnknownSessionError, DEFAULT_LIMITS, type StoreLimits } from './store-files.ts';
export type { SessionWriter } from './session-writer.ts';
export { TraceWorker, TraceWorkerError } from './trace-worker-client.ts';

export interface StoreOptions {
  /** Where problems found while opening go (bad session dirs, torn journals). Default: stderr. */
  warn?: (message: string) => void;
  /**
   * Where the CPU-heavy trace work runs (folding a journal, encoding and decoding `.exray` files):
   * a worker thread, so a server's socket loop never waits on it. Default: the process's shared one.
   */
  traceWorker?: TraceWorker;
}

export class SessionStore {
  readonly dir: string;
  readonly limits: StoreLimits;
  /** Every warning since open (also sent to `options.warn`). */
  readonly warnings: string[] = [];
  private readonly index = new Map<string, StoredSession>();
  /** Bytes on disk per session, per file name. */
  private readonly sizes = new Map<string, Map<string, number>>();
  private total = 0;
  private readonly writers = new Map<string, JournalWriter>();
  private readonly infoWrites = new Map<string, Promise<void>>();
  private readonly warnSink: (message: string) => void;
  private readonly traceWorker: TraceWorker;

  private constructor(dataDir: string, limits: StoreLimits, options: StoreOptions) {
    this.dir = dataDir;
    this.limits = limits;
    this.warnSink = options.warn ?? ((m) => process.stderr.write(`exray: warning: ${m}\n`));
    this.traceWorker = options.traceWorker ?? sharedTraceWorker();
  }

  /**
   * Opens (creating it if needed) the store in `dataDir` and rebuilds the index from every
   * sessions/<id>/session.json. A directory that is not a readable session is skipped with a warning;
   * opening never fails because of one. Sessions keep the status they had: one still `streaming` was
   * cut off by a server exit and may be resumed (writer()) or marked incomplete by the caller.
   */
  static async open(dataDir: string, limits: Partial<StoreLimits> = {}, options: StoreOptions = {}): Promise<SessionStore> {
    const store = new SessionStore(dataDir, { ...DEFAULT_LIMITS, ...limits }, options);
    const root = join(dataDir, SESSIONS_DIR);
    await mkdir(root, { recursive: true });
    for (const name of (await readdir(root)).sort()) {
      try {
        await store.load(name);
      } catch (e) {
        store.warn(`skipped ${join(root, name)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return store;
  }

  private async load(name: string): Promise<void> {
    const dir = sessionDir(this.dir, name);
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    let json: unknown;
    try {
      json = JSON.parse(await readFile(join(dir, FILES.info), 'utf8'));
    } catch (e) {
      throw new Error(`${FILES.info} is missing or not JSON (${(e as Error).message})`);
    }
    const parsed = storedSessionSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${FILES.info}: ${issue ? `${issue.path.join('.') || '(root)'} ${issue.message}` : 'invalid'}`);
    }
    const rec = parsed.data as StoredSession;
    if (rec.id !== name) throw new Error(`${FILES.info} names session ${rec.id}, not ${name}`);
    await removeStaleTemps(dir);
    const files = new Map<string, number>();
    for (const f of await readdir(dir)) {
      const s = await stat(join(dir, f)).catch(() => null);
      if (s?.isFile()) files.set(f, s.size);
    }
    if (files.has(FILES.journal)) {
      // The journal is the truth about what arrived; session.json's counters may lag (not rewritten per record).
      const { summary, fileBytes } = await scanJournal(join(dir, FILES.journal));
      Object.assign(rec, { lastSeq: summary.lastSeq, nodes: summary.nodes, blobBytes: summary.blobBytes });
      if (fileBytes > summary.bytes) this.warn(`session ${name}: the journal ends in ${fileBytes - summary.bytes} bytes of a cut-short record (ignored)`);
    }
    this.index.set(name, rec);
    this.sizes.set(name, files);
    for (const n of files.values()) this.total += n;
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.warnSink(message);
  }

  /** Every session, newest first. */
  list(): SessionInfo[] {
    return [...this.index.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1)).map(toInfo);
  }

  get(id: string): SessionInfo | undefined {
    assertSessionId(id);
    const rec = this.index.get(id);
    return rec && toInfo(rec);
  }

  /** Bytes of every file of every session. */
  totalBytes(): number {
    return this.total;
  }

  /** Bytes of one session's files. */
  sessionBytes(id: string): number {
    this.record(id);
    let n = 0;
    for (const v of this.sizes.get(id)?.values() ?? []) n += v;
    return n;
  }

  /** Starts a new session: its directory, session.json (lastSeq 0) and an empty journal. */
  async create(info: SessionInfo): Promise<SessionWriter> {
    const id = info.id;
    const dir = sessionDir(this.dir, id);
    if (this.index.has(id)) throw new Error(`session ${id} exists already`);
    if (this.total >= this.limits.totalBytes) throw new StoreLimitError('total', `new session ${id}: the store holds`, this.total, this.limits.totalBytes);
    await mkdir(dir); // not recursive: fails if the directory exists (an id collision or a stray dir)
    const rec: StoredSession = { ...structuredClone(info), lastSeq: 0 };
    this.index.set(id, rec);
    this.sizes.set(id, new Map());
    let handle;
    try {
      await this.persist(id);
      handle = await open(join(dir, FILES.journal), 'a');
    } catch (e) {
      // Half-created (disk full?): leave no session behind that open() would have to skip.
      this.index.delete(id);
      for (const n of this.sizes.get(id)?.values() ?? []) this.total -= n;
      this.sizes.delete(id);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
    this.setSize(id, FILES.journal, 0);
    const w = new JournalWriter(id, handle, new JournalSummary(), this.host);
    this.writers.set(id, w);
    return w;
  }

  /**
   * Reopens a session's journal for appending (a producer resumes after a server restart). A record
   * cut short by a crash is truncated away first. One writer per session at a time.
   */
  async writer(id: string): Promise<SessionWriter> {
    const rec = this.record(id);
    if (this.writers.has(id)) throw new Error(`session ${id} already has an open writer; close it before reopening`);
    if (rec.status !== 'streaming' && rec.status !== 'incomplete') throw new Error(`session ${id} is ${rec.status}; only a streaming or incomplete session can be appended to`);
    const path = join(sessionDir(this.dir, id), FILES.journal);
    const { summary, fileBytes } = await scanJournal(path);
    if (fileBytes > summary.bytes) {
      this.warn(`session ${id}: dropped ${fileBytes - summary.bytes} bytes of a cut-short journal record before appending`);
      await truncate(path, summary.bytes);
    }
    const handle = await open(path, 'a');
    this.setSize(id, FILES.journal, summary.bytes);
    Object.assign(rec, { lastSeq: summary.lastSeq, nodes: summary.nodes, blobBytes: summary.blobBytes });
    const w = new JournalWriter(id, handle, summary, this.host);
    this.writers.set(id, w);
    return w;
  }

  /** Changes fields of a session's SessionInfo (not its id) and rewrites session.json atomically. */
  async update(id: string, patch: Partial<SessionInfo>): Promise<SessionInfo> {
    const rec = this.record(id);
    if (patch.id !== undefined && patch.id !== id) throw new Error(`session ${id}: update cannot change the id (to ${patch.id})`);
    Object.assign(rec, structuredClone(patch), { updatedAt: patch.updatedAt ?? new Date().toISOString() });
    await this.persist(id);
    return toInfo(rec);
  }

  /** Deletes a session and every file of it (an open writer is closed first). */
  async remove(id: string): Promise<void> {
    const dir = sessionDir(this.dir, id);
    this.record(id);
    await this.writers.get(id)?.abandon();
    this.writers.delete(id);
    // Out of the index first: a session.json write still queued then becomes a no-op.
    this.index.delete(id);
    await this.infoWrites.get(id);
    this.infoWrites.delete(id);
    for (const n of this.sizes.get(id)?.values() ?? []) this.total -= n;
    this.sizes.delete(id);
    await rm(dir, { recursive: true, force: true });
    await fsyncDir(join(this.dir, SESSIONS_DIR));
  }

  /**
   * Every event that arrived, in order (journal, or replayed from the final trace), blobs assembled.
   * The photo is not a trace event: see photo(). Read and decoded in the trace worker.
   */
  async events(id: string): Promise<TraceEvent[]> {
    this.record(id);
    return this.traceWorker.run('events', { dir: sessionDir(this.dir, id), id }, `read the events of session ${id}`);
  }

  /**
   * For a hub restarted mid-session: every event that arrived (as events()), and the raw frames of the
   * blob the journal ends in the middle of ([] when none), which the hub's assembler must take again
   * before the producer sends the rest. One read of the journal, in the trace worker.
   */
  async resumeState(id: string): Promise<{ events: TraceEvent[]; partialBlob: Uint8Array[] }> {
    this.record(id);
    return this.traceWorker.run('resume', { dir: sessionDir(this.dir, id), id }, `read session ${id} to resume it`);
  }

  /**
   * The final trace, or for an incomplete/failed session a valid partial trace whose warnings say what
   * is missing. Decoded (or folded) in the trace worker. To send the trace as a file, encodedTrace()
   * does not decode at all.
   */
  async readTrace(id: string): Promise<Trace> {
    this.record(id);
    return this.traceWorker.run('trace', { dir: sessionDir(this.dir, id), id }, `read the trace of session ${id}`);
  }

  /**
   * The session's trace as `.exray` bytes (what readTrace() returns, encoded): edge.exray as stored,
   * read without decoding, or for a session that has none its (partial) trace built and encoded in the
   * trace worker. Throws TraceFormatError when no trace can be built (nothing, or no run-start, arrived).
   */
  async encodedTrace(id: string): Promise<Uint8Array> {
    this.record(id);
    const dir = sessionDir(this.dir, id);
    const edge = await readOptional(join(dir, FILES.edge));
    if (edge !== null) return edge;
    return this.traceWorker.run('encoded', { dir, id }, `encode the trace of session ${id}`);
  }

  /** The reference trace, decoded in the trace worker, or null when there is none. */
  async readReference(id: string): Promise<Trace | null> {
    this.record(id);
    const path = join(sessionDir(this.dir, id), FILES.reference);
    return this.traceWorker.run('readTraceFile', { path, source: `session ${id}/${FILES.reference}` }, `read the reference of session ${id}`);
  }

  /** The reference trace's `.exray` bytes as stored (no decoding), or null when there is none. */
  async encodedReference(id: string): Promise<Uint8Array | null> {
    this.record(id);
    return readOptional(join(sessionDir(this.dir, id), FILES.reference));
  }

  /**
   * Stores the reference trace (validated, encoded and written atomically in the trace worker). The
   * trace is copied when this is called: the caller keeps it and may change it afterwards.
   */
  async putReference(id: string, trace: Trace): Promise<void> {
    this.record(id);
    const path = join(sessionDir(this.dir, id), FILES.reference);
    // A copy made now (the worker may get it later): the blobs by plain memcpy, then transferred.
    // (structuredClone would serialise every blob twice over; for 88 MB that stalls for ~0.5 s.)
    const copy: Trace = { header: structuredClone(trace.header), blobs: new Map([...trace.blobs].map(([blobId, data]) => [blobId, data.slice()])) };
    const bytes = await this.traceWorker.run('writeTraceFile', { path, trace: copy }, `store the reference of session ${id}`, traceBuffers(copy));
    this.setSize(id, FILES.reference, bytes);
  }

  async putJson(id: string, name: 'compare' | 'diagnosis', value: unknown): Promise<void> {
    await this.writeSessionFile(id, jsonFile(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  async readJson(id: string, name: 'compare' | 'diagnosis'): Promise<unknown | null> {
    this.record(id);
    return readJsonFile(join(sessionDir(this.dir, id), jsonFile(name)));
  }

  async photo(id: string): Promise<{ bytes: Uint8Array; fileName: string; mimeType: string } | null> {
    const rec = this.record(id);
    const bytes = await readOptional(join(sessionDir(this.dir, id), FILES.photo));
    if (bytes === null || !rec.photo) return null;
    return { bytes, fileName: rec.photo.fileName, mimeType: rec.photo.mimeType };
  }

  /**
   * Copies the session's artefacts into `destDir` (created if needed), each written atomically:
   * edge.exray (the partial trace for an unfinished session, when one can be built), reference.exray,
   * compare.json, diagnosis.json, the photo as `photo.<ext>` (from its MIME type; the client's file
   * name is never used as a path) and session.json. Returns the paths written.
   */
  async exportTo(id: string, destDir: string): Promise<string[]> {
    const rec = this.record(id);
    return exportSessionDir(sessionDir(this.dir, id), id, toInfo(rec), rec.photo?.mimeType ?? '', destDir);
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  private record(id: string): StoredSession {
    assertSessionId(id);
    const rec = this.index.get(id);
    if (!rec) throw new UnknownSessionError(id);
    return rec;
  }

  private setSize(id: string, name: string, bytes: number): void {
    const files = this.sizes.get(id);
    if (!files) return;
    this.total += bytes - (files.get(name) ?? 0);
    if (bytes > 0 || name === FILES.journal) files.set(name, bytes);
    else files.delete(name);
  }

  private async writeSessionFile(id: string, name: string, data: Uint8Array | string): Promise<void> {
    this.record(id);
    await writeFileAtomic(join(sessionDir(this.dir, id), name), data);
    this.setSize(id, name, typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
  }

  /** Writes session.json from the in-memory record, after any write of it already queued. */
  private persist(id: string): Promise<void> {
    const run = (this.infoWrites.get(id) ?? Promise.resolve()).then(async () => {
      const rec = this.index.get(id);
      if (rec) await this.writeSessionFile(id, FILES.info, `${JSON.stringify(rec, null, 2)}\n`);
    });
    this.infoWrites.set(id, run.catch(() => undefined));
    return run;
  }

  /** The callbacks a JournalWriter uses (private to the store, see WriterHost). */
  private readonly host: WriterHost = {
    checkAppend: (id, journalBytes, recordBytes) => {
      if (journalBytes + recordBytes > this.limits.sessionBytes) {
        throw new StoreLimitError('session', `session ${id}: the journal would grow to`, journalBytes + recordBytes, this.limits.sessionBytes);
      }
      if (this.total + recordBytes > this.limits.totalBytes) {
        throw new StoreLimitError('total', `session ${id}: the store would grow to`, this.total + recordBytes, this.limits.totalBytes);
      }
    },
    recordAppended: (id, recordBytes, summary, event) => {
      const rec = this.index.get(id);
      const files = this.sizes.get(id);
      if (!rec || !files) return;
      this.setSize(id, FILES.journal, (files.get(FILES.journal) ?? 0) + recordBytes);
      Object.assign(rec, { lastSeq: summary.lastSeq, nodes: summary.nodes, blobBytes: summary.blobBytes });
      if (event?.type === 'run-start') {
        // Fill what the producer's `open` could not know; the hub may still overwrite with update().
        if (rec.declaredNodes === 0) rec.declaredNodes = event.model?.nodeCount ?? 0;
        rec.gpu ??= event.environment?.webgl?.renderer ?? event.environment?.webgpu?.description ?? null;
      }
    },
    putPhoto: async (id, bytes, fileName, mimeType) => {
      const rec = this.record(id);
      await this.writeSessionFile(id, FILES.photo, bytes);
      Object.assign(rec, { hasPhoto: true, photo: { fileName, mimeType, bytes: bytes.byteLength }, updatedAt: new Date().toISOString() });
      await this.persist(id);
    },
    finalizeSession: async (id, summary) => this.finalizeSession(id, summary),
    writerClosed: async (id, summary, patch) => {
      this.writers.delete(id);
      const rec = this.index.get(id);
      if (!rec) return;
      Object.assign(rec, { lastSeq: summary.lastSeq, nodes: summary.nodes, blobBytes: summary.blobBytes }, patch, { updatedAt: new Date().toISOString() });
      await this.persist(id);
    },
  };

  /**
   * Run ended: fold the journal. A clean run becomes edge.exray (status done) and the journal is
   * deleted. A run-error, or a stream that does not make a valid trace, leaves status failed with the
   * reason and keeps the journal (the exact record of what arrived); the partial trace is returned.
   *
   * Reading, folding, validating, encoding and writing edge.exray run in the trace worker (the trace
   * comes back with its buffers transferred); session.json and the journal's deletion stay here, in
   * that order.
   */
  private async finalizeSession(id: string, summary: JournalSummary): Promise<Trace> {
    this.writers.delete(id);
    const rec = this.record(id);
    const dir = sessionDir(this.dir, id);
    const done = (patch: Partial<StoredSession>): Promise<void> => {
      Object.assign(rec, { lastSeq: summary.lastSeq, nodes: summary.nodes, blobBytes: summary.blobBytes }, patch, { updatedAt: new Date().toISOString() });
      return this.persist(id);
    };
    let r;
    try {
      r = await this.traceWorker.run('finalize', { dir, id }, `finalize session ${id}`);
    } catch (e) {
      if (e instanceof TraceWorkerError && this.index.get(id) === rec) {
        // The worker died part-way: edge.exray may or may not have been renamed into place.
        const edge = await stat(join(dir, FILES.edge)).catch(() => null);
        if (edge?.isFile()) this.setSize(id, FILES.edge, edge.size);
        await done({ status: 'failed', reason: e.message });
      }
      throw e;
    }
    if (r.outcome === 'unreadable') {
      const e = rebuildError(r.error);
      await done({ status: 'failed', reason: e.message });
      throw e;
    }
    if (r.outcome === 'failed') {
      await done({ status: 'failed', reason: r.reason });
      return r.trace;
    }
    this.record(id); // removed while the worker ran: UnknownSessionError, as a write after removal always was
    this.setSize(id, FILES.edge, r.edgeBytes);
    await done({ status: 'done', reason: null });
    // Only now that edge.exray and the status are durable may the record of what arrived go.
    await unlink(join(dir, FILES.journal)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    this.setSize(id, FILES.journal, 0);
    this.sizes.get(id)?.delete(FILES.journal);
    await fsyncDir(dir);
    return r.trace;
  }
}

function jsonFile(name: 'compare' | 'diagnosis'): string {
  if (name !== 'compare' && name !== 'diagnosis') throw new Error(`unknown session JSON ${JSON.stringify(name)}: expected compare or diagnosis`);
  return name === 'compare' ? FILES.compare : FILES.diagnosis;
}
