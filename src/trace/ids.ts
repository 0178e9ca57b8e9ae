/**
 * Identifiers: trace ids and blob ids. Pure: no DOM, no Node.
 */

/**
 * Blob ids are file names inside the `.exray` zip (`tensors/<id>.bin`), so they are restricted to a
 * portable, path-safe alphabet: no `/`, no `..`, no leading dot, at most 128 characters.
 */
export const BLOB_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Longest part of a node name kept in a blob id (readability only; uniqueness comes from the counter). */
const MAX_NAME_PART = 80;

/**
 * A random RFC 4122 version-4 UUID.
 *
 * Uses `globalThis.crypto.randomUUID` (browsers in secure contexts, workers, Node >= 19). A page served
 * over plain http from a LAN address (a phone opening `http://192.168.x.y:port`) is not a secure
 * context and has no `randomUUID`; there the UUID is built from `crypto.getRandomValues`, which every
 * context has.
 */
export function newTraceId(): string {
  const c = globalThis.crypto;
  if (c === undefined) throw new Error('newTraceId: globalThis.crypto is not available in this runtime');
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10xx
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Replaces every run of characters outside `[A-Za-z0-9._-]`, and every run of dots, by `_`; truncates. */
function sanitize(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+|\.{2,}/g, '_').slice(0, MAX_NAME_PART);
  return s === '' ? '_' : s;
}

export type BlobIdAllocator = (nodeName: string, outputIndex: number) => string;

/**
 * Returns a blob-id allocator with its own counter starting at 0. Ids look like
 * `000c-StatefulPartitionedCall_model_conv1_Relu-0`: counter (base 36, at least 4 digits), sanitized
 * node name, output index. The counter makes ids unique for one allocator even when sanitizing maps two
 * names to the same string (`a/b`, `a:b`); the name part is for people reading `unzip -l`.
 */
export function createBlobIdAllocator(): BlobIdAllocator {
  let next = 0;
  return (nodeName: string, outputIndex: number): string => {
    if (!Number.isSafeInteger(outputIndex) || outputIndex < 0) {
      throw new RangeError(`blobIdFor: outputIndex must be a non-negative integer, got ${outputIndex}`);
    }
    const id = `${(next++).toString(36).padStart(4, '0')}-${sanitize(nodeName)}-${outputIndex}`;
    return id;
  };
}

const defaultAllocator = createBlobIdAllocator();

/**
 * A path-safe blob id for output `outputIndex` of node `nodeName` (matches BLOB_ID_PATTERN).
 * Unique within this JS realm (one process-wide counter). A producer that allocates ids in more than one
 * realm (page and worker) for the same trace must allocate in one of them only; TraceBuilder rejects a
 * duplicate blob id loudly.
 */
export function blobIdFor(nodeName: string, outputIndex: number): string {
  return defaultAllocator(nodeName, outputIndex);
}
