/**
 * Messages between the store (main thread, trace-worker-client.ts) and the trace worker
 * (trace-worker.ts), which does the CPU-heavy trace work of the session store: folding a journal,
 * validating, encoding and decoding `.exray` files. Typed arrays travel transferred (no copy); errors
 * travel as plain records and are rebuilt on the main thread with their class (TraceFormatError,
 * JournalError …) and properties (an fs error's `code`), so callers catch what they caught before.
 */
import { ExrayInputError } from '../errors.ts';
import { TraceFormatError, TraceRunError } from '../trace/errors.ts';
import type { Trace, TraceEvent } from '../trace/types.ts';
import { WireError } from '../transport/wire.ts';
import { JournalError } from './journal.ts';

/** What finalizing a session's journal came to (see SessionStore.finalizeSession). */
export type FinalizeOutcome =
  /** The run folded into a valid trace: edge.exray is written (`edgeBytes` long) and synced. */
  | { outcome: 'done'; trace: Trace; edgeBytes: number }
  /** A run-error, or a stream that does not make a valid trace: the partial trace and why. Nothing written. */
  | { outcome: 'failed'; trace: Trace; reason: string }
  /** The journal could not be read or folded at all (no run-start, a record that does not decode …). Nothing written. */
  | { outcome: 'unreadable'; error: ErrorInfo };

/** Every job the worker runs: its arguments and its result. Paths are built and checked by the store. */
export interface TraceJobs {
  /** Fold the session's journal; for a clean run encode it and write edge.exray atomically. */
  finalize: { args: { dir: string; id: string }; result: FinalizeOutcome };
  /** sessionTrace(): edge.exray decoded, else the journal folded (exact or partial). */
  trace: { args: { dir: string; id: string }; result: Trace };
  /** sessionEvents(): the journal's events, else the final trace replayed as events. */
  events: { args: { dir: string; id: string }; result: TraceEvent[] };
  /** sessionResumeState(): the events and the journal's trailing partial blob, from one read of it. */
  resume: { args: { dir: string; id: string }; result: { events: TraceEvent[]; partialBlob: Uint8Array[] } };
  /** The bytes of the session's trace: edge.exray as stored, else the (partial) trace encoded. */
  encoded: { args: { dir: string; id: string }; result: Uint8Array };
  /** A `.exray` file decoded, or null when it does not exist. */
  readTraceFile: { args: { path: string; source: string }; result: Trace | null };
  /** A trace encoded and written atomically to `path`; the result is the file's size. */
  writeTraceFile: { args: { path: string; trace: Trace }; result: number };
}

export type TraceJobName = keyof TraceJobs;

export type ToTraceWorker = { [K in TraceJobName]: { job: number; t: K; args: TraceJobs[K]['args'] } }[TraceJobName];

export type FromTraceWorker = { job: number; ok: true; result: TraceJobs[TraceJobName]['result'] } | { job: number; ok: false; error: ErrorInfo };

/** An error as data (structured clone keeps neither custom classes nor an fs error's code). */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string | undefined;
  /** fs / system errors. */
  code?: string | undefined;
  errno?: number | undefined;
  syscall?: string | undefined;
  path?: string | undefined;
  /** TraceFormatError, ExrayInputError. */
  file?: string | undefined;
  problem?: string | undefined;
  /** TraceRunError. */
  source?: string | undefined;
  runMessage?: string | undefined;
}

export function errorInfo(e: unknown): ErrorInfo {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof x[k] === 'string' ? (x[k] as string) : undefined);
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    code: str('code'),
    errno: typeof x.errno === 'number' ? x.errno : undefined,
    syscall: str('syscall'),
    path: str('path'),
    file: str('file'),
    problem: str('problem'),
    source: str('source'),
    runMessage: str('runMessage'),
  };
}

const STANDARD: Record<string, new (message: string) => Error> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** The error again, as the class the worker threw where the store's callers can tell it apart. */
export function rebuildError(info: ErrorInfo): Error {
  let e: Error;
  if (info.name === 'TraceFormatError' && info.file !== undefined && info.problem !== undefined) e = new TraceFormatError(info.file, info.problem);
  else if (info.name === 'TraceRunError' && info.source !== undefined && info.runMessage !== undefined) e = new TraceRunError(info.source, info.runMessage);
  else if (info.name === 'ExrayInputError' && info.file !== undefined && info.problem !== undefined) e = new ExrayInputError(info.file, info.problem);
  else if (info.name === 'JournalError') e = new JournalError(info.message);
  else if (info.name === 'WireError') e = new WireError(info.message);
  else {
    e = new (STANDARD[info.name] ?? Error)(info.message);
    if (e.name !== info.name) e.name = info.name;
    const sys = e as Error & { code?: string; errno?: number; syscall?: string; path?: string };
    if (info.code !== undefined) sys.code = info.code;
    if (info.errno !== undefined) sys.errno = info.errno;
    if (info.syscall !== undefined) sys.syscall = info.syscall;
    if (info.path !== undefined) sys.path = info.path;
  }
  // The worker's stack is where it happened; the main thread's would only show the message handler.
  if (info.stack !== undefined) e.stack = info.stack;
  return e;
}

/** The buffers behind some typed arrays, each once, ready for a transfer list (shared memory is left out). */
export function buffersOf(arrays: Iterable<ArrayBufferView>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer && a.buffer.byteLength > 0) out.add(a.buffer);
  return [...out];
}

export function traceBuffers(trace: Trace): ArrayBuffer[] {
  return buffersOf(trace.blobs.values());
}

export function eventBuffers(events: readonly TraceEvent[]): ArrayBuffer[] {
  return buffersOf(events.flatMap((e) => (e.type === 'blob' ? [e.data] : [])));
}

/** Bytes that own their whole buffer (transferring a view would send, and detach, all of its buffer). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
}
