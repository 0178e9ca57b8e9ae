/**
 * SessionWriter: appends one session's arriving events and frames to its journal (Node).
 *
 * Appends run one at a time in call order (a promise chain), so a caller may fire them without
 * awaiting and the journal still holds them in seq order; seqs must be consecutive (1, 2, 3 …). Each append checks seq order and the store
 * limits before it writes; a write that fails part-way is cut back off the file (ftruncate), so a
 * later append never follows half a record. The journal is not fsynced per record (that would cost a
 * disk flush per event); `sync()` flushes on demand (e.g. before an ack that must survive a power
 * cut) and close/finalize/markIncomplete always flush.
 */
import type { FileHandle } from 'node:fs/promises';
import { peekBinaryFrame, WireError } from '../transport/wire.ts';
import type { Trace, TraceEvent } from '../trace/types.ts';
import { RECORD_HEADER_BYTES, recordHeader, framePayloadInfo, JOURNAL_EVENT, JOURNAL_FRAME, type JournalKind, type JournalSummary } from './journal.ts';

export interface SessionWriter {
  readonly id: string;
  /** The seq of the last record stored (0 when none): what a resumed producer continues after. */
  readonly lastSeq: number;
  /** Append one JSON event (not a blob) with its seq. Checks the per-session and total limits BEFORE writing; throws StoreLimitError (nothing written). */
  appendEvent(seq: number, event: TraceEvent): Promise<void>;
  /**
   * Append one binary wire frame (raw bytes as received) with its seq; same limit checks. The frame's
   * own seq must equal `seq`. The bytes are written when the append's turn comes: do not modify them
   * until the returned promise settles.
   */
  appendFrame(seq: number, frame: Uint8Array): Promise<void>;
  putPhoto(bytes: Uint8Array, fileName: string, mimeType: string): Promise<void>;
  /** fsync the journal: every append that resolved before this call survives a power cut. */
  sync(): Promise<void>;
  /** Fold the journal into a Trace (TraceBuilder), write edge.exray atomically, mark status done (or failed with the run-error message), delete the journal. Returns the trace. */
  finalize(): Promise<Trace>;
  /** Mark incomplete with a reason (socket gone, no resume); keeps the journal. */
  markIncomplete(reason: string): Promise<void>;
  close(): Promise<void>;
}

/** What a writer needs from its store (SessionStore provides it; an interface keeps the import one-way). */
export interface WriterHost {
  /** Throws StoreLimitError when `recordBytes` more would exceed a limit. */
  checkAppend(id: string, journalBytes: number, recordBytes: number): void;
  /** A record was written: account its bytes and update the in-memory SessionInfo. */
  recordAppended(id: string, recordBytes: number, summary: JournalSummary, event: TraceEvent | undefined): void;
  putPhoto(id: string, bytes: Uint8Array, fileName: string, mimeType: string): Promise<void>;
  /** The journal handle is closed; fold it into edge.exray and set the final status. */
  finalizeSession(id: string, summary: JournalSummary): Promise<Trace>;
  /** The writer is done (closed, incomplete): persist session.json with `patch`, forget the writer. */
  writerClosed(id: string, summary: JournalSummary, patch: { status?: 'incomplete'; reason?: string }): Promise<void>;
}

const utf8 = new TextEncoder();

export class JournalWriter implements SessionWriter {
  private chain: Promise<void> = Promise.resolve();
  private handle: FileHandle | null;
  /** Set when a failed write could not be cut back: the journal's end is unknown, so stop appending. */
  private broken: Error | null = null;

  constructor(
    readonly id: string,
    handle: FileHandle,
    private readonly summary: JournalSummary,
    private readonly host: WriterHost,
  ) {
    this.handle = handle;
  }

  get lastSeq(): number {
    return this.summary.lastSeq;
  }

  get closed(): boolean {
    return this.handle === null;
  }

  appendEvent(seq: number, event: TraceEvent): Promise<void> {
    if (event.type === 'blob') return Promise.reject(new Error(`session ${this.id}: blob events travel as binary frames; use appendFrame`));
    // Serialised now: the caller may reuse or change the object before the append's turn comes.
    const payload = utf8.encode(JSON.stringify(event));
    return this.enqueue(() => this.append(seq, JOURNAL_EVENT, payload, event));
  }

  appendFrame(seq: number, frame: Uint8Array): Promise<void> {
    try {
      // The journal must hold only frames the reader can decode: check the whole frame now.
      const decoded = peekBinaryFrame(frame);
      if (decoded.seq !== seq) throw new WireError(`frame carries seq ${decoded.seq} but was appended as seq ${seq}`);
    } catch (e) {
      return Promise.reject(e instanceof Error ? new WireError(`session ${this.id}: ${e.message}`) : e);
    }
    return this.enqueue(() => this.append(seq, JOURNAL_FRAME, frame, undefined));
  }

  putPhoto(bytes: Uint8Array, fileName: string, mimeType: string): Promise<void> {
    return this.host.putPhoto(this.id, bytes, fileName, mimeType);
  }

  sync(): Promise<void> {
    return this.enqueue(async () => {
      await this.open().sync();
    });
  }

  finalize(): Promise<Trace> {
    return this.enqueue(async () => {
      this.open();
      if (this.summary.terminal === null) {
        throw new Error(`session ${this.id}: cannot finalize: the journal has neither run-end nor run-error (call markIncomplete for a run that stopped)`);
      }
      await this.closeHandle();
      return this.host.finalizeSession(this.id, this.summary);
    });
  }

  markIncomplete(reason: string): Promise<void> {
    return this.enqueue(async () => {
      if (this.handle === null) return;
      await this.closeHandle();
      await this.host.writerClosed(this.id, this.summary, { status: 'incomplete', reason });
    });
  }

  close(): Promise<void> {
    return this.enqueue(async () => {
      if (this.handle === null) return;
      await this.closeHandle();
      await this.host.writerClosed(this.id, this.summary, {});
    });
  }

  /** Closes the file without touching session.json (the store is removing the session). */
  async abandon(): Promise<void> {
    await this.enqueue(async () => {
      const h = this.handle;
      this.handle = null;
      await h?.close();
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task);
    // The next task waits for this one whatever its outcome; the outcome goes to this caller only.
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private open(): FileHandle {
    if (this.handle === null) throw new Error(`session ${this.id}: the writer is closed`);
    if (this.broken) throw this.broken;
    return this.handle;
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    if (h === null) return;
    this.handle = null;
    try {
      if (!this.broken) await h.sync();
    } finally {
      await h.close();
    }
  }

  private async append(seq: number, kind: JournalKind, payload: Uint8Array, event: TraceEvent | undefined): Promise<void> {
    const handle = this.open();
    // Gap-free: every seq'd item of the wire is journaled, so the next one is exactly lastSeq + 1. An
    // item refused (limit, I/O error) is never followed by later ones, which keeps the journal a
    // readable prefix (a missing blob chunk would otherwise make everything after it undecodable).
    if (seq !== this.summary.lastSeq + 1 || seq > 0xffffffff) {
      throw new Error(`session ${this.id}: seq ${seq} does not follow the last stored seq ${this.summary.lastSeq} (expected ${this.summary.lastSeq + 1})`);
    }
    // Header and payload go out in one writev: the payload (up to a 4 MiB frame) is not copied.
    const header = recordHeader(seq, kind, payload.byteLength);
    const recordBytes = RECORD_HEADER_BYTES + payload.byteLength;
    this.host.checkAppend(this.id, this.summary.bytes, recordBytes);
    try {
      let done = (await handle.writev([header, payload])).bytesWritten;
      while (done < recordBytes) {
        // A short write (rare: a signal, a nearly full disk): write the rest from where it stopped.
        const rest = done < RECORD_HEADER_BYTES ? [header.subarray(done), payload] : [payload.subarray(done - RECORD_HEADER_BYTES)];
        done += (await handle.writev(rest)).bytesWritten;
      }
    } catch (e) {
      // ENOSPC after a partial write, EFBIG, EIO: cut the half record off so the journal stays whole.
      await handle.truncate(this.summary.bytes).catch((t: unknown) => {
        this.broken = new Error(`session ${this.id}: journal unusable: a write failed (${(e as Error).message}) and could not be undone (${(t as Error).message})`);
      });
      throw e;
    }
    if (event) this.summary.noteEvent(seq, recordBytes, event.type);
    else this.summary.noteFrame(seq, recordBytes, framePayloadInfo(payload).blobBytes);
    this.host.recordAppended(this.id, recordBytes, this.summary, event);
  }
}
