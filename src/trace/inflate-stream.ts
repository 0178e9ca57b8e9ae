/**
 * Raw deflate inflated by the platform's DecompressionStream('deflate-raw') (browsers, workers; Node
 * has it too): native zlib instead of fflate's JavaScript, for decodeTraceAsync (file.ts). In the
 * viewer's trace reader, a cold worker inflating the 1,000 blobs (~3 KB → 16 KB) of a trace: ~150 ms
 * against ~220-450 ms for fflate (Chromium, 2 busy cores). Pure: no DOM, no Node.
 */
import { crc32Combine, InflateOverflow } from './blob-codec.ts';
import { endsJoinable, JOINABLE_FINAL, JOINABLE_TAIL } from './plane-deflate.ts';

/**
 * Input is written in pieces of this size: the stream inflates one written chunk per pull, all of it,
 * so an entry that lies about its size costs at most one piece's expansion (deflate: ≤ 1,032×) past its limit.
 */
const PIECE = 16 * 1024;

/** Whether this platform has a DecompressionStream that takes 'deflate-raw' (current browsers; Node 20 here). */
export function streamInflateAvailable(): boolean {
  try {
    new DecompressionStream('deflate-raw');
    return true;
  } catch {
    return false;
  }
}

/**
 * The bytes raw deflate `data` inflates to, into a buffer of `limit` bytes allocated first; rejects
 * with InflateOverflow as soon as more arrive, with the stream's error for data that is not deflate
 * (or has bytes after its end). An AsyncRawInflate (file.ts).
 */
export async function streamInflateRaw(data: Uint8Array, limit: number): Promise<Uint8Array> {
  return inflateThrough('deflate-raw', [streamable(data)], limit);
}

/**
 * streamInflateRaw that also verifies the entry's CRC-32 natively: the raw deflate goes in as one gzip
 * member (a 10-byte header, the data, then `crc` and the size as gzip's trailer), so the browser's zlib
 * checks the checksum and the length as it inflates, and rejects bytes that do not match them. In the
 * viewer's trace reader that checksum in JavaScript cost 32–43 ms of a cold worker's ~400 ms per file.
 * An AsyncRawInflate with `checksCrc` (file.ts): the reader does not checksum the bytes again.
 */
export const streamInflateChecked = Object.assign(
  async (data: Uint8Array, limit: number, crc: number): Promise<Uint8Array> => {
    // One piece (a copy of the compressed bytes, a few KiB a blob): each write costs the stream a turn.
    const size = GZIP_HEADER.length + data.length + 8;
    const room = takeMemberRoom(size);
    const member = room.subarray(0, size);
    member.set(GZIP_HEADER);
    member.set(data, GZIP_HEADER.length);
    const dv = new DataView(room.buffer, GZIP_HEADER.length + data.length, 8);
    dv.setUint32(0, crc >>> 0, true);
    dv.setUint32(4, limit >>> 0, true); // ISIZE: the size modulo 2^32
    try {
      return await inflateThrough('gzip', [member], limit);
    } finally {
      // Settled: the stream has read the member (or failed and reads no more), so its room is free again.
      giveMemberRoom(room);
    }
  },
  { checksCrc: true as const, joined: streamInflateJoined },
);

/** An entry of a joined run: its deflate data (ending with plane-deflate.ts JOINABLE_TAIL), declared size and CRC-32. */
export interface JoinedPart {
  data: Uint8Array;
  size: number;
  crc: number;
}

/**
 * Each of `parts` inflated, all through one stream: one gzip member of the parts one after another,
 * each without its final empty block (it ends with a sync flush, so the next starts on a byte), then
 * one final block and a trailer of their combined CRC-32 and summed size, which the browser's zlib
 * checks. Each part is written on its own (in PIECE pieces), so its bytes come out as one chunk of
 * their own, kept as they are; a part that comes out otherwise is copied into a buffer of its size.
 * Rejects when a part is not joinable, when more bytes come out than declared, or when the trailer
 * does not match (fewer bytes, or any byte other than declared); the caller then inflates each apart.
 * One stream instead of one per entry: the viewer opening 2 × 1,000 blobs of 16 KiB (issue #16)
 * spent ~0.1 ms a blob in stream machinery.
 */
export async function streamInflateJoined(parts: readonly JoinedPart[]): Promise<Uint8Array[]> {
  let total = 0;
  let crc = 0;
  for (const p of parts) {
    if (!endsJoinable(p.data)) throw new TypeError('an entry of a joined run does not end with a sync flush and an empty final block');
    crc = crc32Combine(crc, p.crc, p.size);
    total += p.size;
  }
  const trailer = new Uint8Array(JOINABLE_FINAL + 8);
  trailer.set(JOINABLE_TAIL.subarray(JOINABLE_TAIL.length - JOINABLE_FINAL));
  const dv = new DataView(trailer.buffer, JOINABLE_FINAL, 8);
  dv.setUint32(0, crc, true);
  dv.setUint32(4, total >>> 0, true);
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  // Not awaited: the reads below pull the pieces through; a failure shows on the reader.
  const write = (b: Uint8Array<ArrayBuffer>): void => void writer.write(b).catch(() => {});
  write(GZIP_HEADER);
  for (const p of parts) {
    const data = streamable(p.data).subarray(0, p.data.length - JOINABLE_FINAL);
    for (let at = 0; at < data.length; at += PIECE) write(data.subarray(at, Math.min(data.length, at + PIECE)));
  }
  write(trailer);
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const out: Uint8Array[] = [];
  let part: Uint8Array | null = null;
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let v: Uint8Array = value;
    while (v.length > 0) {
      const size = parts[out.length]?.size;
      if (size === undefined) {
        reader.cancel().catch(() => {});
        throw new InflateOverflow();
      }
      if (part === null && v.length === size && v.byteOffset === 0 && v.buffer.byteLength === size) {
        out.push(v);
        break;
      }
      part ??= new Uint8Array(size);
      const take = Math.min(size - n, v.length);
      part.set(v.subarray(0, take), n);
      n += take;
      v = v.subarray(take);
      if (n === size) {
        out.push(part);
        part = null;
        n = 0;
      }
    }
  }
  // Empty parts never come out; the trailer has checked the sum, so only they are left.
  while (out.length < parts.length && parts[out.length]!.size === 0 && part === null) out.push(new Uint8Array(0));
  if (out.length !== parts.length) throw new InflateOverflow();
  return out;
}

/**
 * Buffers the gzip members are assembled in, reused from entry to entry: a fresh buffer per blob was
 * ~8% of the trace reader's time (new memory's page faults, Chromium). Few are in use at once
 * (decodeTraceAsync inflates 4 ahead); the kept ones are bounded in number and size.
 */
const memberRooms: Uint8Array<ArrayBuffer>[] = [];
const MEMBER_ROOMS_KEPT = 8;
const MEMBER_ROOM_MAX = 1024 * 1024;

function takeMemberRoom(size: number): Uint8Array<ArrayBuffer> {
  const i = memberRooms.findIndex((r) => r.length >= size);
  if (i >= 0) return memberRooms.splice(i, 1)[0]!;
  return new Uint8Array(size <= MEMBER_ROOM_MAX ? Math.min(MEMBER_ROOM_MAX, Math.max(size, 64 * 1024)) : size);
}

function giveMemberRoom(room: Uint8Array<ArrayBuffer>): void {
  if (room.length <= MEMBER_ROOM_MAX && memberRooms.length < MEMBER_ROOMS_KEPT) memberRooms.push(room);
}

/** A gzip member header: deflate, no flags, no time, no extra fields, OS unknown (RFC 1952). */
const GZIP_HEADER = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

function streamable(data: Uint8Array): Uint8Array<ArrayBuffer> {
  // Streams take no view of a SharedArrayBuffer; decodeTraceAsync inflates such an entry with fflate
  // (streamInflateChecked copies it, and reads it all the same).
  if (!(data.buffer instanceof ArrayBuffer)) throw new TypeError('a DecompressionStream cannot read shared memory');
  return data as Uint8Array<ArrayBuffer>;
}

async function inflateThrough(format: 'deflate-raw' | 'gzip', parts: Uint8Array<ArrayBuffer>[], limit: number): Promise<Uint8Array> {
  const ds = new DecompressionStream(format);
  const writer = ds.writable.getWriter();
  // Not awaited: the reads below pull the pieces through; a failure shows on the reader.
  for (const input of parts) {
    for (let p = 0; p < input.length; p += PIECE) writer.write(input.subarray(p, Math.min(input.length, p + PIECE))).catch(() => {});
  }
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  let out: Uint8Array | null = null;
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out === null ? new Uint8Array(0) : n === limit ? out : out.subarray(0, n);
    if (n + value.length > limit) {
      reader.cancel().catch(() => {});
      throw new InflateOverflow();
    }
    // A blob that comes out in one chunk of its own buffer (most do: Chromium hands out up to 64 KiB
    // at a time) is kept as it is: no second buffer, no copy.
    if (out === null && value.length === limit && value.byteOffset === 0 && value.buffer.byteLength === limit) {
      out = value;
      n = limit;
      continue;
    }
    out ??= new Uint8Array(limit);
    out.set(value, n);
    n += value.length;
  }
}
