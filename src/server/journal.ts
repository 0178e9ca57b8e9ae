/**
 * The session journal `edge.journal` (Node): an append-only log of what a producer sent, in arrival
 * order, written as it arrives so a crash or a dropped socket loses at most the record being written.
 *
 * Record: `u32 length (LE) | u32 seq (LE) | u8 kind | payload (length bytes)`, where `length` counts
 * the payload only and kind is
 *   0 (JOURNAL_EVENT): UTF-8 JSON of a TraceEvent that is not a blob,
 *   1 (JOURNAL_FRAME): a binary wire frame exactly as received (encodeBinaryFrame output: a blob
 *      chunk or an attachment).
 * There is no checksum: the journal is written by this process only, and the one damage it has to
 * survive is a record cut short by a crash, which the length prefix detects (the tail is ignored).
 */
import { open } from 'node:fs/promises';
import { BlobAssembler, decodeBinaryFrame, peekBinaryFrame, WireError } from '../transport/wire.ts';
import { parseJsonEvent } from '../trace/event-schema.ts';
import type { BlobData, TraceEvent } from '../trace/types.ts';

export const JOURNAL_EVENT = 0;
export const JOURNAL_FRAME = 1;
export type JournalKind = typeof JOURNAL_EVENT | typeof JOURNAL_FRAME;
export const RECORD_HEADER_BYTES = 9;
/** Binary wire frame header size (wire.ts: magic, version, kind, meta length, seq, reserved). */
const FRAME_HEADER_BYTES = 16;
/** Largest blob the journal reader assembles: the default per-session limit is 1 GiB of journal. */
const MAX_BLOB_ELEMENTS = 2 ** 28;

export interface JournalRecord {
  seq: number;
  kind: JournalKind;
  payload: Uint8Array;
}

export function encodeRecord(seq: number, kind: JournalKind, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + payload.byteLength);
  out.set(recordHeader(seq, kind, payload.byteLength), 0);
  out.set(payload, RECORD_HEADER_BYTES);
  return out;
}

/** The header of a record whose payload has `length` bytes. */
export function recordHeader(seq: number, kind: JournalKind, length: number): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, length, true);
  view.setUint32(4, seq >>> 0, true);
  view.setUint8(8, kind);
  return out;
}

/** What a journal holds, counted the same way whether built record by record or by a scan. */
export class JournalSummary {
  lastSeq = 0;
  records = 0;
  /** Bytes of whole records (the valid prefix of the file). */
  bytes = 0;
  nodes = 0;
  /** Payload bytes of blob frames (tensor values), the SessionInfo.blobBytes figure. */
  blobBytes = 0;
  hasStart = false;
  terminal: 'run-end' | 'run-error' | null = null;

  noteEvent(seq: number, recordBytes: number, type: TraceEvent['type']): void {
    this.note(seq, recordBytes);
    if (type === 'node') this.nodes++;
    else if (type === 'run-start') this.hasStart = true;
    else if (type === 'run-end' || type === 'run-error') this.terminal = type;
  }

  noteFrame(seq: number, recordBytes: number, blobPayloadBytes: number): void {
    this.note(seq, recordBytes);
    this.blobBytes += blobPayloadBytes;
  }

  private note(seq: number, recordBytes: number): void {
    this.lastSeq = seq;
    this.records++;
    this.bytes += recordBytes;
  }
}

/**
 * The tensor payload bytes of a binary wire frame (0 for an attachment), read from its header alone.
 * Throws WireError when the frame header is malformed.
 */
export function framePayloadInfo(frame: Uint8Array): { seq: number; blobBytes: number; attachment: boolean } {
  if (frame.byteLength < FRAME_HEADER_BYTES) throw new WireError(`binary frame of ${frame.byteLength} bytes is shorter than its header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const kind = view.getUint8(5);
  const metaLen = view.getUint16(6, true);
  const start = FRAME_HEADER_BYTES + ((metaLen + 3) & ~3);
  return { seq: view.getUint32(8, true), attachment: kind === 2, blobBytes: kind === 2 ? 0 : Math.max(0, frame.byteLength - start) };
}

/**
 * Reads every record header of a journal (and the small JSON payloads, to count nodes), without
 * loading tensor payloads. Stops at the first record that is cut short, has an unknown kind or a seq
 * that does not increase: `summary.bytes` is then the length of the valid prefix and `fileBytes` the
 * file's size. A missing file is an empty journal.
 */
export async function scanJournal(path: string): Promise<{ summary: JournalSummary; fileBytes: number }> {
  const summary = new JournalSummary();
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { summary, fileBytes: 0 };
    throw e;
  }
  try {
    const fileBytes = (await handle.stat()).size;
    const head = new Uint8Array(RECORD_HEADER_BYTES + FRAME_HEADER_BYTES);
    let pos = 0;
    while (pos + RECORD_HEADER_BYTES <= fileBytes) {
      const { bytesRead } = await handle.read(head, 0, head.length, pos);
      if (bytesRead < RECORD_HEADER_BYTES) break;
      const view = new DataView(head.buffer);
      const length = view.getUint32(0, true);
      const seq = view.getUint32(4, true);
      const kind = view.getUint8(8);
      const recordBytes = RECORD_HEADER_BYTES + length;
      if (pos + recordBytes > fileBytes || seq <= summary.lastSeq) break;
      if (kind === JOURNAL_EVENT) {
        const payload = new Uint8Array(length);
        await handle.read(payload, 0, length, pos + RECORD_HEADER_BYTES);
        const type = eventType(payload);
        if (type === undefined) break;
        summary.noteEvent(seq, recordBytes, type);
      } else if (kind === JOURNAL_FRAME) {
        if (length < FRAME_HEADER_BYTES || bytesRead < head.length) break;
        const frameHead = head.subarray(RECORD_HEADER_BYTES);
        const metaLen = new DataView(frameHead.buffer, frameHead.byteOffset).getUint16(6, true);
        const frameKind = frameHead[5];
        summary.noteFrame(seq, recordBytes, frameKind === 2 ? 0 : Math.max(0, length - FRAME_HEADER_BYTES - ((metaLen + 3) & ~3)));
      } else {
        break;
      }
      pos += recordBytes;
    }
    return { summary, fileBytes };
  } finally {
    await handle.close();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function eventType(payload: Uint8Array): TraceEvent['type'] | undefined {
  try {
    const e = JSON.parse(utf8.decode(payload)) as { type?: unknown };
    return typeof e.type === 'string' ? (e.type as TraceEvent['type']) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits journal bytes into whole records; a record cut short at the end is left out (see scanJournal). */
export function parseJournal(bytes: Uint8Array): { records: JournalRecord[]; validBytes: number } {
  const records: JournalRecord[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let lastSeq = 0;
  while (pos + RECORD_HEADER_BYTES <= bytes.byteLength) {
    const length = view.getUint32(pos, true);
    const seq = view.getUint32(pos + 4, true);
    const kind = view.getUint8(pos + 8);
    const end = pos + RECORD_HEADER_BYTES + length;
    if (end > bytes.byteLength || seq <= lastSeq || (kind !== JOURNAL_EVENT && kind !== JOURNAL_FRAME)) break;
    records.push({ seq, kind, payload: bytes.subarray(pos + RECORD_HEADER_BYTES, end) });
    lastSeq = seq;
    pos = end;
  }
  return { records, validBytes: pos };
}

/**
 * The TraceEvents of journal records, in order: JSON events as they were, blob chunks assembled into
 * one BlobEvent per blob (emitted when its last chunk arrived). Attachments (the photo) are not trace
 * events and are skipped. Statistics that JSON carried as null (JSON has no NaN) are NaN again, so a
 * folded trace equals the producer's in memory, not only on disk.
 * Throws JournalError naming `source` and the record's seq when a record does not decode.
 */
export function recordsToEvents(records: readonly JournalRecord[], source: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const assembler = new BlobAssembler(MAX_BLOB_ELEMENTS);
  let narrowed: 'float16' | 'bfloat16' | undefined;
  for (const r of records) {
    try {
      if (r.kind === JOURNAL_EVENT) {
        // The same check the hub made when it arrived; it also turns null statistics back into NaN.
        events.push(parseJsonEvent(JSON.parse(utf8.decode(r.payload)), source));
        continue;
      }
      const frame = decodeBinaryFrame(r.payload);
      if (frame.kind === 'attachment') continue;
      if (frame.kind === 'blob-bf16' || (frame.kind === 'blob-f16' && narrowed === undefined)) narrowed = frame.kind === 'blob-bf16' ? 'bfloat16' : 'float16';
      const blob = assembler.push(frame);
      if (blob) events.push({ type: 'blob', id: blob.id, data: ownBlob(blob.data) });
    } catch (e) {
      throw new JournalError(`${source}: journal record seq ${r.seq} does not decode: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  // Values that arrived narrowed are what the trace holds, whatever run-start declared: say so.
  const start = events.find((e) => e.type === 'run-start');
  if (narrowed && start?.type === 'run-start' && start.storagePrecision !== 'bfloat16' && start.storagePrecision !== narrowed) start.storagePrecision = narrowed;
  return events;
}

/**
 * The frames of the blob the journal ends in the middle of (a server killed between two chunks of one
 * blob), in order, copied; [] when every blob in it is whole. A producer that resumes sends the rest
 * of that blob: the hub's assembler must hold its first chunks again (hub-sessions.ts resume).
 */
export function trailingPartialBlob(records: readonly JournalRecord[]): Uint8Array[] {
  const assembler = new BlobAssembler(MAX_BLOB_ELEMENTS);
  let first = -1;
  records.forEach((r, i) => {
    if (r.kind !== JOURNAL_FRAME) return;
    const frame = peekBinaryFrame(r.payload);
    if (frame.kind === 'attachment') return;
    if (!assembler.busy) first = i;
    if (assembler.push(frame, false)) first = -1;
  });
  if (first < 0) return [];
  return records.slice(first).flatMap((r) => (r.kind === JOURNAL_FRAME && peekBinaryFrame(r.payload).kind !== 'attachment' ? [r.payload.slice()] : []));
}

/** A blob that aliases the journal buffer is copied so it does not keep the whole journal alive. */
function ownBlob(data: BlobData): BlobData {
  return data.byteLength === data.buffer.byteLength ? data : data.slice();
}

export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalError';
  }
}
