/**
 * Messages between ReferenceService (main thread, reference.ts) and its worker (reference-worker.ts).
 * Blob values travel as transferred typed arrays; everything else is structured-clone data.
 */
import type { Comparison } from '../compare/index.ts';
import type { Diagnosis } from '../diagnose/index.ts';
import type { NodeBackend } from '../reference/tfjs-backend.ts';
import type { TraceEvent } from '../trace/types.ts';
import type { WireMetric } from '../transport/wire.ts';

export type ToWorker =
  /** First message of a session: the backend is fixed here, so a later change applies to new sessions only. */
  | { t: 'begin'; session: string; backend: NodeBackend }
  /** `model` only with run-start: the located model (dir or file), null when the server has none. */
  | { t: 'edge'; session: string; event: TraceEvent; model?: string | null }
  | { t: 'photo'; session: string; bytes: Uint8Array; fileName: string }
  | { t: 'end'; session: string }
  | { t: 'idle'; id: number };

export type FromWorker =
  | { t: 'ref-event'; session: string; event: TraceEvent }
  | { t: 'metrics'; session: string; items: WireMetric[] }
  | { t: 'compared'; session: string; verdict: 'ok' | 'diverged'; firstDivergent: string | null; comparison: Comparison }
  | { t: 'diagnosis'; session: string; cause: string | null; diagnosis: Diagnosis }
  | { t: 'note'; session: string; text: string }
  /** The worker dropped everything of this session. */
  | { t: 'released'; session: string }
  | { t: 'idle'; id: number };

/**
 * The buffers to transfer with a typed array, making it the sole user of its buffer first: a view into
 * a bigger buffer (a socket frame, a pooled Buffer) is copied, because transferring would detach the
 * whole frame and cloning would copy all of it.
 */
export function ownBuffer<T extends Float32Array | Int32Array | Uint8Array>(data: T): { data: T; transfer: ArrayBuffer[] } {
  const buf = data.buffer;
  if (buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength) return { data, transfer: [buf] };
  // A whole SharedArrayBuffer (a capture's copy for a statistics pool that shares memory) is posted
  // as it is: the other thread gets the same memory, nothing is copied, and the capture never writes
  // to it again.
  if (typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength) return { data, transfer: [] };
  // An explicit copy: a Node Buffer's slice() would alias the frame instead of copying it.
  const copy = (data instanceof Float32Array ? new Float32Array(data) : data instanceof Int32Array ? new Int32Array(data) : new Uint8Array(data)) as T;
  return { data: copy, transfer: [copy.buffer as ArrayBuffer] };
}

/** A blob event made transferable (other events: no transfer). */
export function transferableEvent(event: TraceEvent): { event: TraceEvent; transfer: ArrayBuffer[] } {
  if (event.type !== 'blob') return { event, transfer: [] };
  const { data, transfer } = ownBuffer(event.data);
  return { event: { type: 'blob', id: event.id, data }, transfer };
}
