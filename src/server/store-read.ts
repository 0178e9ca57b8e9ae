/**
 * Reading a session directory (Node): its events, its trace (final or partial), optional files, and
 * copying it out. Functions of a directory path, so they need no store state; the store validates ids
 * before building the path.
 */
import { mkdir } from 'node:fs/promises';
import { ExrayInputError } from '../errors.ts';
import { FILE_NOT_FOUND, readInputBytes } from '../read-input.ts';
import { join } from 'node:path';
import { TraceFormatError } from '../trace/errors.ts';
import { decodeTraceNode, encodeTraceNode } from '../io/zlib-native.ts';
import { traceToEvents } from '../trace/events.ts';
import type { Trace, TraceEvent } from '../trace/types.ts';
import { parseJournal, recordsToEvents, trailingPartialBlob } from './journal.ts';
import { traceFromEvents } from './partial.ts';
import type { SessionInfo } from '../transport/wire.ts';
import { writeFileAtomic } from './atomic.ts';
import { FILES, photoExportName } from './store-files.ts';

/** A file's bytes (a plain Uint8Array, not a pooled Buffer view), or null when it does not exist. */
export async function readOptional(path: string): Promise<Uint8Array | null> {
  try {
    // Regular files within EXRAY_MAX_FILE_BYTES only (src/read-input.ts).
    return await readInputBytes(path);
  } catch (e) {
    if (e instanceof ExrayInputError && e.problem === FILE_NOT_FOUND) return null;
    throw e;
  }
}

/** The journal's events (blobs assembled; a cut-short last record ignored), or null without a journal. */
export async function journalEvents(dir: string, id: string): Promise<TraceEvent[] | null> {
  const bytes = await readOptional(join(dir, FILES.journal));
  if (bytes === null) return null;
  return recordsToEvents(parseJournal(bytes).records, `session ${id}`);
}

/**
 * Every event that arrived, in order: from the journal while it exists (it is the exact record,
 * progress events included), else replayed from the final trace, else none.
 */
export async function sessionEvents(dir: string, id: string): Promise<TraceEvent[]> {
  const fromJournal = await journalEvents(dir, id);
  if (fromJournal !== null) return fromJournal;
  const edge = await readOptional(join(dir, FILES.edge));
  return edge === null ? [] : traceToEvents(decodeTraceNode(edge, `session ${id}/${FILES.edge}`));
}

/**
 * What a hub restarted mid-session needs, from one read of the journal: every event that arrived
 * (sessionEvents), and the raw frames of the blob the journal ends in the middle of ([] when none, or
 * no journal), which its assembler must take again before the producer sends the rest.
 */
export async function sessionResumeState(dir: string, id: string): Promise<{ events: TraceEvent[]; partialBlob: Uint8Array[] }> {
  const bytes = await readOptional(join(dir, FILES.journal));
  if (bytes === null) return { events: await sessionEvents(dir, id), partialBlob: [] };
  const { records } = parseJournal(bytes);
  return { events: recordsToEvents(records, `session ${id}`), partialBlob: trailingPartialBlob(records) };
}

/**
 * The final trace (edge.exray) or, for a session that has none, the trace its journal folds into:
 * exact when the run ended cleanly, partial otherwise (partial.ts). Throws TraceFormatError when no
 * trace can be built (nothing, or no run-start, arrived).
 */
export async function sessionTrace(dir: string, id: string): Promise<Trace> {
  const edge = await readOptional(join(dir, FILES.edge));
  if (edge !== null) return decodeTraceNode(edge, `session ${id}/${FILES.edge}`);
  return traceFromEvents(await sessionEvents(dir, id), `session ${id}`).trace;
}

export async function readJsonFile(path: string): Promise<unknown | null> {
  const bytes = await readOptional(path);
  return bytes === null ? null : (JSON.parse(new TextDecoder().decode(bytes)) as unknown);
}

/**
 * Copies a session's artefacts into `destDir` (created if needed), each written atomically:
 * edge.exray (the partial trace for an unfinished session, when one can be built), reference.exray,
 * compare.json, diagnosis.json, the photo as `photo.<ext>` (from its MIME type; the client's file
 * name is never used as a path) and session.json (`info`). Returns the paths written.
 */
export async function exportSessionDir(dir: string, id: string, info: SessionInfo, photoMimeType: string, destDir: string): Promise<string[]> {
  await mkdir(destDir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, data: Uint8Array | string): Promise<void> => {
    const p = join(destDir, name);
    await writeFileAtomic(p, data);
    written.push(p);
  };
  const edge = await readOptional(join(dir, FILES.edge));
  if (edge !== null) await put(FILES.edge, edge);
  else {
    try {
      await put(FILES.edge, encodeTraceNode(await sessionTrace(dir, id), { compress: false })); // as trace-jobs.ts stores it
    } catch (e) {
      if (!(e instanceof TraceFormatError)) throw e; // nothing usable arrived: there is no trace to export
    }
  }
  for (const name of [FILES.reference, FILES.compare, FILES.diagnosis]) {
    const bytes = await readOptional(join(dir, name));
    if (bytes !== null) await put(name, bytes);
  }
  const photo = await readOptional(join(dir, FILES.photo));
  if (photo !== null) await put(photoExportName(photoMimeType), photo);
  await put(FILES.info, `${JSON.stringify(info, null, 2)}\n`);
  return written;
}
