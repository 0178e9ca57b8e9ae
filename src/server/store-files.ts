/**
 * Names, errors and the session.json schema of the session store (Node). Kept apart from store.ts so
 * the writer and the store share them without importing each other.
 *
 * Layout: `<data>/sessions/<id>/` holding session.json, edge.journal, edge.exray, reference.exray,
 * compare.json, diagnosis.json and photo. A session id is the only caller-supplied part of any path,
 * and it is checked against SESSION_ID_PATTERN before it is joined into one (sessionDir).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { SESSION_ID_PATTERN, type SessionInfo } from '../transport/wire.ts';

export const FILES = {
  info: 'session.json',
  journal: 'edge.journal',
  edge: 'edge.exray',
  reference: 'reference.exray',
  compare: 'compare.json',
  diagnosis: 'diagnosis.json',
  photo: 'photo',
} as const;

export const SESSIONS_DIR = 'sessions';

/** Disk limits. Journal appends are checked against both before anything is written. */
export interface StoreLimits {
  /** Largest journal one session may grow to (default 1 GiB). */
  sessionBytes: number;
  /** Largest the whole store (every file of every session) may grow to (default 8 GiB). */
  totalBytes: number;
}

export const DEFAULT_LIMITS: StoreLimits = { sessionBytes: 1024 ** 3, totalBytes: 8 * 1024 ** 3 };

/** A new session id: `s-` and 16 hex digits from the OS random source (64 bits: unguessable). */
/** The fields a producer's `open` gives; everything else starts empty. */
export type NewSession = Pick<SessionInfo, 'id' | 'deviceId' | 'device' | 'userAgent' | 'model' | 'label' | 'backend' | 'capture'>;

/** A session as it is when opened: streaming, nothing arrived yet. */
export function openedSession(fields: NewSession, now = new Date().toISOString()): SessionInfo {
  return {
    ...fields,
    gpu: null,
    createdAt: now,
    updatedAt: now,
    status: 'streaming',
    reason: null,
    nodes: 0,
    declaredNodes: 0,
    blobBytes: 0,
    hasPhoto: false,
    reference: null,
    referenceNote: null,
    verdict: null,
    firstDivergent: null,
    cause: null,
  };
}

export function newSessionId(): string {
  return `s-${randomBytes(8).toString('hex')}`;
}

/** A value is refused as a session id: named in the message (JSON-quoted, so NUL or newlines show). */
export class SessionIdError extends Error {
  readonly id: string;
  constructor(id: unknown) {
    const shown = typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : String(id);
    super(`invalid session id ${shown}: expected 's-' followed by 16 lowercase hex digits`);
    this.name = 'SessionIdError';
    this.id = typeof id === 'string' ? id : String(id);
  }
}

export class UnknownSessionError extends Error {
  readonly id: string;
  constructor(id: string) {
    super(`no session ${id} in this store`);
    this.name = 'UnknownSessionError';
    this.id = id;
  }
}

/** A write was refused because it would exceed a store limit; nothing was written. */
export class StoreLimitError extends Error {
  readonly limit: 'session' | 'total';
  readonly bytes: number;
  readonly max: number;
  constructor(limit: 'session' | 'total', what: string, bytes: number, max: number) {
    super(`${what}: ${formatBytes(bytes)} would exceed the ${limit === 'session' ? 'per-session' : 'total store'} limit of ${formatBytes(max)}`);
    this.name = 'StoreLimitError';
    this.limit = limit;
    this.bytes = bytes;
    this.max = max;
  }
}

export function assertSessionId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SESSION_ID_PATTERN.test(id)) throw new SessionIdError(id);
}

/** The directory of a session; refuses anything that is not a well-formed id. */
export function sessionDir(root: string, id: string): string {
  assertSessionId(id);
  return join(root, SESSIONS_DIR, id);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export interface StoredPhoto {
  fileName: string;
  mimeType: string;
  bytes: number;
}

/** session.json: the SessionInfo, the last seq stored in the journal, and the photo's description. */
export interface StoredSession extends SessionInfo {
  lastSeq: number;
  photo?: StoredPhoto | undefined;
}

const nullableString = z.string().nullable();
/**
 * session.json is the store's own file, but a data dir may be copied around, edited or half-written
 * by an older version: it is checked before it enters the index (a bad one is skipped with a warning).
 * Loose: fields a newer SessionInfo adds are kept.
 */
export const storedSessionSchema = z.looseObject({
  id: z.string().regex(SESSION_ID_PATTERN),
  deviceId: z.string(),
  device: z.string(),
  userAgent: z.string(),
  gpu: nullableString,
  model: z.looseObject({ name: z.string(), sha256: z.string(), format: z.string() }),
  label: z.string(),
  backend: z.string(),
  capture: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: z.enum(['streaming', 'done', 'failed', 'incomplete', 'refused']),
  reason: nullableString,
  nodes: z.number().int().nonnegative(),
  declaredNodes: z.number().int().nonnegative(),
  blobBytes: z.number().nonnegative(),
  hasPhoto: z.boolean(),
  reference: nullableString,
  referenceNote: nullableString,
  verdict: z.enum(['ok', 'diverged']).nullable(),
  firstDivergent: nullableString,
  cause: nullableString,
  lastSeq: z.number().int().nonnegative(),
  photo: z.strictObject({ fileName: z.string(), mimeType: z.string(), bytes: z.number().int().nonnegative() }).optional(),
});

/** The SessionInfo part of a stored record (a copy: callers cannot change the index by accident). */
export function toInfo(s: StoredSession): SessionInfo {
  const { lastSeq: _lastSeq, photo: _photo, ...info } = structuredClone(s);
  return info;
}

/** File name for an exported photo: `photo` plus an extension from its MIME type (never the client's name). */
export function photoExportName(mimeType: string): string {
  const ext: Record<string, string> = {
    'image/jpeg': '.jpg',
    'image/png': '.png',
    'image/webp': '.webp',
    'image/gif': '.gif',
    'image/heic': '.heic',
    'image/heif': '.heif',
    'image/avif': '.avif',
    'image/bmp': '.bmp',
  };
  return `photo${ext[mimeType.toLowerCase()] ?? ''}`;
}
