/**
 * The wire protocol between `exray serve` and its clients (a phone page, the desktop page, the agent,
 * Node clients). Pure: the page and the server share it unchanged.
 *
 * - JSON text frames: one message union per direction, `t` names the kind; the server validates every
 *   client message with zod (`parseClientText`) and closes the offending session with the reason.
 * - Binary frames carry bytes (tensor blobs, the original photo) with a small header and no base64:
 *
 *   ```
 *   0   u32  magic 0x42525845 ("EXRB", little-endian)
 *   4   u8   version (1)
 *   5   u8   kind: 0 blob float32 · 1 blob int32 · 2 attachment (photo bytes) · 3 blob float16 ·
 *            4 blob bfloat16 (3, 4: float32 values narrowed for the link, see frames.ts)
 *   6   u16  meta length m (UTF-8 JSON, see BinaryMeta)
 *   8   u32  seq (per-session sequence number; 0 on server → viewer frames)
 *   12  u32  reserved (0)
 *   16  meta (m bytes), zero-padded to a multiple of 4
 *   ..  payload (little-endian values; float32/int32 payloads start 4-aligned)
 *   ```
 *   A blob larger than `CHUNK_BYTES` travels as several frames (meta.offset / meta.total, in elements),
 *   each with its own seq; the receiver assembles them in order. So does a large attachment (in bytes).
 *   Encoding, checking and reassembly of binary frames: frames.ts (re-exported here).
 * - Sequencing (producer → server): every `ev` message and every binary frame of a session carries the
 *   next seq (1, 2, 3 …). The server acks cumulatively (`ack`), drops duplicates (seq ≤ last), and
 *   closes the session on a gap (seq > last + 1): the producer's resend buffer and `resume` make gaps
 *   impossible on a healthy client.
 */
import { z } from 'zod';
import type { TraceEvent } from '../trace/types.ts';
import { SESSION_ID_PATTERN, WireError, type LinkPrecision } from './frames.ts';

export * from './frames.ts';

/** WebSocket subprotocol; the token travels as a second subprotocol `exray-token.<hex>` (never in a URL). */
export const WIRE_SUBPROTOCOL = 'exray.v1';
export const TOKEN_SUBPROTOCOL_PREFIX = 'exray-token.';
/** The socket endpoint's path on the server. */
export const WIRE_PATH = '/ws';
/** Largest frame either side sends or accepts (server `maxPayload`). */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Largest JSON text frame the server accepts. */
export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** Close codes (4000-4999 are the application's). */
export const CLOSE = {
  unauthorized: 4401,
  forbidden: 4403,
  protocol: 4400,
  tooLarge: 4413,
  revoked: 4410,
  shutdown: 4503,
} as const;

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------------------------
// JSON messages
// ---------------------------------------------------------------------------------------------

/** What a producer says about a run when it opens a session. */
export interface RunMeta {
  model: { name: string; sha256: string; format: 'tfjs-graph' | 'tfjs-layers' | 'onnx' | 'tfjs' };
  /** Requested backend configuration, e.g. `webgl f16`. */
  label: string;
  backend: string;
  capture: 'timing' | 'stats' | 'tensors';
  /** Device description (user agent; the GPU renderer arrives with run-start's environment). */
  device: { userAgent: string; name?: string | undefined };
  /** The original photo or camera frame, sent as an `attachment` frame named `photo`. */
  photo?: { fileName: string; mimeType: string; bytes: number } | undefined;
  /**
   * `tensors` captures: node and output values travel narrowed (half the bytes; inputs and int32 stay
   * exact) and the trace says so (`storagePrecision`), as `--precision` does for trace files.
   */
  precision?: LinkPrecision | undefined;
}

const runMetaSchema = z.strictObject({
  model: z.strictObject({
    name: z.string().min(1).max(200),
    sha256: z.string().regex(SHA256_PATTERN),
    format: z.enum(['tfjs-graph', 'tfjs-layers', 'onnx', 'tfjs']),
  }),
  label: z.string().min(1).max(100),
  backend: z.string().min(1).max(40),
  capture: z.enum(['timing', 'stats', 'tensors']),
  device: z.strictObject({ userAgent: z.string().max(1000), name: z.string().max(100).optional() }),
  photo: z.strictObject({ fileName: z.string().min(1).max(255), mimeType: z.string().max(100), bytes: z.number().int().nonnegative() }).optional(),
  precision: z.enum(['float16', 'bfloat16']).optional(),
});

/** Producer / viewer → server. */
export type ClientMessage =
  | { t: 'open'; run: RunMeta }
  | { t: 'resume'; session: string; lastAck: number }
  | { t: 'ev'; seq: number; event: Exclude<TraceEvent, { type: 'blob' }> }
  | { t: 'ping'; n: number }
  | { t: 'watch'; session: string }
  | { t: 'unwatch'; session: string }
  /** Desktop → server: ask a device's agent to capture its app's next inference. */
  | { t: 'capture'; device: string };

const eventSchema = z.looseObject({ type: z.enum(['run-start', 'node', 'kernel', 'timing', 'progress', 'run-end', 'run-error']) });

const clientSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('open'), run: runMetaSchema }),
  z.strictObject({ t: z.literal('resume'), session: z.string().regex(SESSION_ID_PATTERN), lastAck: z.number().int().nonnegative() }),
  z.strictObject({ t: z.literal('ev'), seq: z.number().int().positive(), event: eventSchema }),
  z.strictObject({ t: z.literal('ping'), n: z.number() }),
  z.strictObject({ t: z.literal('watch'), session: z.string().regex(SESSION_ID_PATTERN) }),
  z.strictObject({ t: z.literal('unwatch'), session: z.string().regex(SESSION_ID_PATTERN) }),
  z.strictObject({ t: z.literal('capture'), device: z.string().min(1).max(40) }),
]);

/**
 * Parse one client text frame. Only the envelope is checked here; the event inside an `ev` is checked
 * by TraceBuilder (the same rules as a trace file) when the server folds it.
 */
export function parseClientText(text: string): ClientMessage {
  if (text.length > MAX_TEXT_BYTES) throw new WireError(`text frame of ${text.length} characters is over the ${MAX_TEXT_BYTES} limit`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WireError('text frame is not JSON');
  }
  const r = clientSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new WireError(`malformed message: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data as ClientMessage;
}

export type SessionStatus = 'streaming' | 'done' | 'failed' | 'incomplete' | 'refused';

/** One session as listed to viewers and by `exray sessions ls`. */
export interface SessionInfo {
  id: string;
  /** The paired device (id), or `desktop` / `agent`. */
  deviceId: string;
  device: string;
  userAgent: string;
  gpu: string | null;
  model: { name: string; sha256: string; format: string };
  label: string;
  backend: string;
  capture: string;
  createdAt: string;
  updatedAt: string;
  status: SessionStatus;
  /** Why it failed / was refused / is incomplete. */
  reason: string | null;
  nodes: number;
  declaredNodes: number;
  blobBytes: number;
  hasPhoto: boolean;
  /** Reference on the server: `cpu`, `wasm`, or null when none could run (reason in `referenceNote`). */
  reference: string | null;
  referenceNote: string | null;
  /** Summary of the server's comparison, once there is one. */
  verdict: 'ok' | 'diverged' | null;
  firstDivergent: string | null;
  cause: string | null;
}

/** Per-node-output metrics the server computed, streamed to viewers as nodes arrive. */
export interface WireMetric {
  node: string;
  output: number;
  nrmse: number;
  maxAbs: number;
  cosine: number;
  verdict: 'ok' | 'diverged';
  reasons: string[];
}

/** A paired device, as the desktop lists it. */
export interface DeviceInfo {
  id: string;
  name: string;
  userAgent: string;
  pairedAt: string;
  lastSeen: string | null;
  online: boolean;
}

/** Server → client. */
export type ServerMessage =
  | { t: 'hello'; role: 'desktop' | 'device'; deviceId: string; server: string }
  | { t: 'opened'; session: string }
  | { t: 'resumed'; session: string; ack: number }
  | { t: 'ack'; session: string; seq: number }
  | { t: 'refused'; session: string | null; reason: string }
  | { t: 'error'; session: string | null; message: string }
  | { t: 'pong'; n: number }
  | { t: 'sessions'; list: SessionInfo[] }
  | { t: 'session'; info: SessionInfo }
  | { t: 'removed'; session: string }
  | { t: 'devices'; list: DeviceInfo[] }
  | { t: 'pairing'; url: string; lanUrls: string[] }
  /** A watched session's events (blobs come as binary frames with meta.session / meta.stream). */
  | { t: 'sev'; session: string; stream: 'edge' | 'reference'; event: Exclude<TraceEvent, { type: 'blob' }> }
  | { t: 'metrics'; session: string; items: WireMetric[] }
  /** The whole comparison and diagnosis once the run and its reference ended (JSON of Comparison / Diagnosis). */
  | { t: 'compared'; session: string; verdict: 'ok' | 'diverged'; firstDivergent: string | null; comparison: unknown }
  | { t: 'diagnosis'; session: string; cause: string | null; diagnosis: unknown }
  /** To a producer (an agent): capture the next inference. To the desktop that asked: how many heard it. */
  | { t: 'capture'; device: string; delivered: number };
