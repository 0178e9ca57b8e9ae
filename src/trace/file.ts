/**
 * Reading the `.exray` file: a zip holding `header.json` and `tensors/<blobId>.bin`. Pure: no DOM, no
 * Node. Writing: file-writer.ts.
 *
 * The reader does not use fflate's unzipSync: fflate inflates into a buffer of the size the directory
 * declares and keeps decoding (discarding the excess) when an entry lies about its size, so a few MB
 * of crafted deflate data cost minutes of CPU, and it does not check CRCs. This reader walks the zip
 * directory itself (zip-directory.ts, bounds-checked), caps the declared total size, inflates with
 * fflate's streaming Inflate in 64 KiB steps aborting as soon as an entry exceeds its declared size
 * (or with a caller's native inflater that stops there too: DecodeOptions.inflateRaw, decodeTraceAsync),
 * and verifies every entry's CRC-32. Layout and rules: docs/trace-format.md.
 */
import {
  BLOB_CODECS,
  decodeBlob,
  entrySizeProblem,
  inflateEntry,
  isBasedCodec,
  type BlobCodec,
  type Crc32,
  type RawInflate,
  type StoredEntry,
} from './blob-codec.ts';
import { endsJoinable } from './plane-deflate.ts';
import { bytesSource, readZipDirectory, storedEntry, type ByteSource, type ZipEntry } from './zip-directory.ts';
import { formatBytes, TraceFormatError } from './errors.ts';
import { BLOB_ID_PATTERN } from './ids.ts';
import { blobUses, parseTraceHeader } from './schema.ts';
import type { BlobData, Trace, TraceHeader } from './types.ts';

export const HEADER_ENTRY = 'header.json';
export const TENSOR_DIR = 'tensors/';

/** Default cap on the total uncompressed size of a file's entries: 4 GiB. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 4 * 1024 ** 3;
/** header.json larger than this is rejected (a JSON string this long cannot be parsed anyway). */
export const MAX_HEADER_BYTES = 256 * 1024 ** 2;

/** The file version written when some blob is encoded (`blobCodecs`); all-raw files stay version 1. */
export const ENCODED_BLOBS_VERSION = 2;

export interface DecodeOptions {
  /** Cap on the sum of the entries' uncompressed sizes. Default 4 GiB. */
  maxUncompressedBytes?: number;
  /** Cap on one blob's uncompressed size, checked from the zip directory before inflating. Default: no cap beyond the total. */
  maxBlobBytes?: number;
  /** Cap on header.json's uncompressed size. Default 256 MiB. */
  maxHeaderBytes?: number;
  /** Cap on the trace's node count (checked after the header is parsed). Default: none. */
  maxNodes?: number;
  /** Names the environment variable that raises each cap, for messages ("EXRAY_MAX_BLOB_BYTES raises it"). */
  limitHints?: { uncompressed?: string; blob?: string; header?: string; nodes?: string };
  /**
   * A faster raw-deflate inflater than fflate's (Node: zlib's, src/io/zlib-native.ts), with the same
   * checks around it (declared size, CRC-32, messages): blob-codec.ts RawInflate. Default: fflate.
   */
  inflateRaw?: RawInflate;
  /** A faster CRC-32 than blob-codec.ts's (Node: zlib's, src/io/zlib-native.ts): every entry's check. */
  crc32?: Crc32;
}

/**
 * A raw-deflate inflater that answers later (the browser's DecompressionStream, inflate-stream.ts);
 * contract of RawInflate. `crc`: the entry's declared CRC-32, for an inflater that `checksCrc`.
 */
export interface AsyncRawInflate {
  (data: Uint8Array, limit: number, crc: number): Promise<Uint8Array>;
  /** It verifies `crc` as it inflates and rejects bytes that do not match: the reader does not checksum them again. */
  readonly checksCrc?: boolean;
  /**
   * Inflates consecutive entries that end joinable (plane-deflate.ts endsJoinable: every blob exray
   * deflates) through one stream, each into bytes of its own; their sizes and CRC-32s verified
   * together (inflate-stream.ts streamInflateJoined). Rejects on any mismatch: each is then inflated apart.
   */
  readonly joined?: (parts: readonly StoredEntry[]) => Promise<Uint8Array[]>;
}

/** The zip entry name of a blob. */
export function blobEntryName(blobId: string): string {
  return `${TENSOR_DIR}${blobId}.bin`;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/**
 * Takes `blobCodecs` out of a parsed header.json and checks `version` against it: version 2 must
 * say how its blobs are encoded, version 1 has none. Returns the codec of each blob id (untrusted
 * keys checked against the header's blob references by the caller). Leaves `version` 1 in `json`:
 * in memory a header is a version-1 header; the file version only tells the blob layout.
 */
function takeBlobCodecs(json: unknown, fail: (problem: string) => never): { codecs: Map<string, BlobCodec>; bases: Map<string, string> } {
  const codecs = new Map<string, BlobCodec>();
  const bases = new Map<string, string>();
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { codecs, bases };
  const h = json as Record<string, unknown>;
  if (h.format !== 'exray-trace') return { codecs, bases };
  const raw = h.blobCodecs;
  if (h.version === ENCODED_BLOBS_VERSION) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`version ${ENCODED_BLOBS_VERSION} needs a "blobCodecs" object`);
    for (const [id, c] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof c !== 'string' || !(BLOB_CODECS as readonly string[]).includes(c)) {
        fail(`blobCodecs[${JSON.stringify(id)}] must be one of ${BLOB_CODECS.map((x) => `'${x}'`).join(', ')} (got ${JSON.stringify(c)})`);
      }
      codecs.set(id, c as BlobCodec);
    }
    const rawBases = h.blobBases ?? {};
    if (typeof rawBases !== 'object' || rawBases === null || Array.isArray(rawBases)) fail(`"blobBases" must be an object`);
    for (const [id, b] of Object.entries(rawBases as Record<string, unknown>)) {
      if (typeof b !== 'string') fail(`blobBases[${JSON.stringify(id)}] must be a blob id (got ${JSON.stringify(b)})`);
      if (!isBasedCodec(codecs.get(id))) fail(`blobBases names blob ${JSON.stringify(id)}, which is not stored as masked4 or xor4`);
      bases.set(id, b as string);
    }
    delete h.blobCodecs;
    delete h.blobBases;
    h.version = 1;
  } else if ((raw !== undefined || h.blobBases !== undefined) && h.version === 1) {
    fail(`"blobCodecs" needs version ${ENCODED_BLOBS_VERSION}; this file says version ${JSON.stringify(h.version)}`);
  }
  return { codecs, bases };
}

const BLOB_ENTRY = /^tensors\/(.+)\.bin$/;

/**
 * Reads `.exray` bytes. The file is untrusted: every problem becomes a TraceFormatError
 * (`${fileName}: ${problem}`), never another exception, and the work done is bounded by the file size
 * and the caps of `options` (each checked from the zip directory, before anything is inflated). Blobs
 * are fresh typed arrays (they do not alias `bytes`).
 */
export function decodeTrace(bytes: Uint8Array, fileName: string, options: DecodeOptions = {}): Trace {
  return guarded(fileName, () => {
    const lazy = decodeLazy(bytesSource(bytes), fileName, options, true);
    const blobs = new Map<string, BlobData>();
    for (const id of lazy.blobIds) blobs.set(id, lazy.readBlob(id, blobs));
    return { header: lazy.header, blobs };
  });
}

/** A trace whose blobs are inflated only when asked for. */
export interface LazyTrace {
  header: TraceHeader;
  /** Every blob id the header references (each checked present, of the right size and within the caps). */
  blobIds: string[];
  /**
   * Inflates (and CRC-checks) one blob; throws TraceFormatError. A masked4 / xor4 blob reads its base too,
   * from `decoded` when given (blobs already read; decodeTrace passes its own).
   */
  readBlob(id: string, decoded?: ReadonlyMap<string, BlobData>): BlobData;
}

/**
 * Reads the header of an `.exray` file through a ByteSource: the zip directory, the local headers and
 * header.json only, with every check of decodeTrace that needs no blob byte (entries present, sizes
 * consistent, caps). Blobs are inflated on demand by `readBlob`. `inspect` and `latency` of a trace of
 * any size cost its header.
 */
export function decodeTraceHeader(src: ByteSource, fileName: string, options: DecodeOptions = {}): LazyTrace {
  const lazy = guarded(fileName, () => decodeLazy(src, fileName, options, false));
  return { header: lazy.header, blobIds: lazy.blobIds, readBlob: (id, decoded) => guarded(fileName, () => lazy.readBlob(id, decoded)) };
}

/** Entries decodeTraceAsync has inflating at once (measured in Chromium's trace reader: 4 beat 1, 16 and 1,000). */
const ASYNC_INFLATE_AHEAD = 4;

/**
 * decodeTrace with the blobs' deflate inflated by `inflate` (the browser's native DecompressionStream,
 * inflate-stream.ts), a few entries ahead of the blob being decoded: the same checks, caps (all from
 * the zip directory before anything is inflated), CRC-32 and answer as decodeTrace. An entry `inflate`
 * rejects is inflated again by fflate, so a bad entry fails with decodeTrace's message and a file one
 * accepts the other does too.
 */
export async function decodeTraceAsync(bytes: Uint8Array, fileName: string, inflate: AsyncRawInflate, options: DecodeOptions = {}): Promise<Trace> {
  const reader = guarded(fileName, () => decodeLazy(bytesSource(bytes), fileName, options, true));
  const ids = reader.blobIds;
  const { joined } = inflate;
  const ahead = new Map<string, Promise<Uint8Array | null>>();
  let inFlight = 0;
  let next = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight++;
    return p.finally(() => inFlight--);
  };
  const fill = (): void => {
    while (next < ids.length && inFlight < ASYNC_INFLATE_AHEAD) {
      const id = ids[next++]!;
      const e = reader.stored(id)!;
      if (e.method !== 8 || e.data.length === 0) continue;
      if (joined === undefined || !endsJoinable(e.data)) {
        ahead.set(id, track(inflate(e.data, e.size, e.crc).catch(() => null)));
        continue;
      }
      // This entry and the joinable ones after it, up to JOINED_RUN_BYTES inflated: one stream.
      const run = [{ id, e }];
      for (let size = e.size; next < ids.length && size < JOINED_RUN_BYTES; ) {
        const f = reader.stored(ids[next]!)!;
        if (f.method !== 8 || !endsJoinable(f.data)) break;
        run.push({ id: ids[next++]!, e: f });
        size += f.size;
      }
      const parts = track(joined(run.map((r) => r.e)).catch(() => null));
      run.forEach((r, k) => ahead.set(r.id, parts.then((got) => got?.[k] ?? null)));
    }
  };
  const blobs = new Map<string, BlobData>();
  for (const id of ids) {
    fill();
    const pending = ahead.get(id);
    let got: Uint8Array | null = null;
    if (pending !== undefined) {
      got = await pending;
      ahead.delete(id);
    }
    const inflated = got;
    // Bytes an inflater that checksCrc gave (a joined run: their combined CRC-32) have matched the
    // declared CRC-32: the check below takes it as read.
    const checked: Crc32 | undefined = inflated !== null && inflate.checksCrc ? () => reader.stored(id)!.crc : undefined;
    blobs.set(id, guarded(fileName, () => reader.readBlob(id, blobs, inflated === null ? undefined : () => inflated, checked)));
  }
  return { header: reader.header, blobs };
}

/** A joined run is cut after this many inflated bytes: its blobs are handed on once its stream has ended (checked). */
const JOINED_RUN_BYTES = 4 * 1024 * 1024;

function guarded<T>(fileName: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof TraceFormatError) throw err;
    // Safety net: whatever slipped through the checks above still reaches the caller as a format error.
    throw new TraceFormatError(fileName, `unreadable file (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** decodeLazy's answer: a LazyTrace whose readBlob takes the inflater of one call, and each blob's stored entry. */
interface TraceReader extends LazyTrace {
  /** `inflate`, `crc`: this blob's (not its base's) inflater and CRC-32; default options.inflateRaw / crc32, else fflate / blob-codec.ts. */
  readBlob(id: string, decoded?: ReadonlyMap<string, BlobData>, inflate?: RawInflate, crc?: Crc32): BlobData;
  stored(id: string): StoredEntry | undefined;
}

/** `eager`: every blob will be read, so the per-blob and total caps are checked at once; else per blob, in readBlob. */
function decodeLazy(src: ByteSource, file: string, options: DecodeOptions, eager: boolean): TraceReader {
  const fail = (problem: string): never => {
    throw new TraceFormatError(file, problem);
  };
  const hint = (h: string | undefined): string => (h ? ` (${h} raises it)` : '');
  const maxBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  const maxHeader = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  const maxBlob = options.maxBlobBytes ?? Infinity;
  const hints = options.limitHints ?? {};

  const checkBlob = (e: ZipEntry): void => {
    if (e.size > maxBlob) {
      fail(`blob ${e.name} inflates to ${formatBytes(e.size)}, over the limit of ${formatBytes(maxBlob)} per blob${hint(hints.blob)}`);
    }
  };
  const entries = readZipDirectory(src, file);
  const byName = new Map<string, ZipEntry>();
  let total = 0;
  for (const e of entries) {
    if (byName.has(e.name)) fail(`duplicate entry ${e.name}`);
    byName.set(e.name, e);
    total += e.size;
    if (e.name === HEADER_ENTRY || e.name === TENSOR_DIR) continue;
    const m = BLOB_ENTRY.exec(e.name);
    if (m === null || !BLOB_ID_PATTERN.test(m[1]!)) {
      fail(`unexpected entry ${JSON.stringify(e.name)}: an .exray file holds only ${HEADER_ENTRY} and ${TENSOR_DIR}<blob id>.bin`);
    }
    if (eager) checkBlob(e);
  }
  if (eager && total > maxBytes) {
    fail(`uncompressed size ${formatBytes(total)} exceeds the limit of ${formatBytes(maxBytes)} (zip bomb or oversized trace)${hint(hints.uncompressed)}`);
  }
  const dir = byName.get(TENSOR_DIR);
  if (dir !== undefined && dir.size !== 0) fail(`entry ${TENSOR_DIR} must be an empty directory entry`);

  const headerEntry = byName.get(HEADER_ENTRY) ?? fail(`missing ${HEADER_ENTRY} (is this an .exray file?)`);
  if (headerEntry.size > maxHeader) {
    fail(`${HEADER_ENTRY} is ${formatBytes(headerEntry.size)}, over the limit of ${formatBytes(maxHeader)}${hint(hints.header)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(inflateEntry(storedEntry(src, headerEntry), file, options.inflateRaw, options.crc32));
  } catch (err) {
    if (err instanceof TraceFormatError) throw err;
    return fail(`${HEADER_ENTRY} is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`${HEADER_ENTRY} is not valid JSON (${(err as Error).message})`);
  }
  const { codecs, bases } = takeBlobCodecs(json, fail);
  const header = parseTraceHeader(json, file);
  if (options.maxNodes !== undefined && header.nodes.length > options.maxNodes) {
    fail(`the trace has ${header.nodes.length} nodes, over the limit of ${options.maxNodes}${hint(hints.nodes)}`);
  }

  const refs = new Map<string, { entry: ZipEntry; encoding: 'float32' | 'int32'; length: number; codec: BlobCodec | undefined }>();
  for (const { path, ref } of blobUses(header)) {
    if (refs.has(ref.id)) continue;
    const name = blobEntryName(ref.id);
    const e = byName.get(name) ?? fail(`missing blob ${name} (referenced by ${path})`);
    const codec = codecs.get(ref.id);
    const sizeProblem = entrySizeProblem(codec, ref.length, e.size);
    if (sizeProblem !== null) {
      const as = codec === undefined ? '' : ` stored as ${codec}`;
      fail(`blob ${name} is ${e.size} bytes but ${path} says ${ref.length} ${ref.encoding} values${as} (${sizeProblem})`);
    }
    if ((codec === 'float16' || codec === 'bfloat16') && ref.encoding !== 'float32') {
      fail(`blob ${name} is stored as ${codec} but ${path} says ${ref.encoding}; only float32 blobs may be narrowed`);
    }
    // Narrowed blobs widen to 4 bytes a value in memory: the per-blob cap applies to that.
    if (eager && ref.length * 4 > maxBlob) {
      fail(`blob ${name} inflates to ${formatBytes(ref.length * 4)}, over the limit of ${formatBytes(maxBlob)} per blob${hint(hints.blob)}`);
    }
    refs.set(ref.id, { entry: e, encoding: ref.encoding, length: ref.length, codec });
  }
  for (const id of codecs.keys()) {
    if (!refs.has(id)) fail(`blobCodecs names blob ${JSON.stringify(id)}, which no tensor in ${HEADER_ENTRY} references`);
  }
  for (const [id, r] of refs) {
    if (!isBasedCodec(r.codec)) continue;
    // One level only: a base is never itself masked4 / xor4, so reading a blob reads at most one other.
    const baseId = bases.get(id) ?? fail(`blob ${r.entry.name} is stored as ${r.codec} but blobBases names no base for it`);
    const base = refs.get(baseId) ?? fail(`blobBases[${JSON.stringify(id)}] is ${JSON.stringify(baseId)}, which no tensor in ${HEADER_ENTRY} references`);
    if (isBasedCodec(base.codec) || base.length !== r.length) {
      fail(`blobBases[${JSON.stringify(id)}] is blob '${baseId}', which ${isBasedCodec(base.codec) ? `is itself ${base.codec}` : `holds ${base.length} values, not ${r.length}`}`);
    }
  }
  for (const name of byName.keys()) {
    const m = BLOB_ENTRY.exec(name);
    if (m !== null && !refs.has(m[1]!)) fail(`unexpected entry ${name}: no tensor in ${HEADER_ENTRY} references blob '${m[1]}'`);
  }
  const readBlob = (id: string, decoded?: ReadonlyMap<string, BlobData>, inflate: RawInflate | undefined = options.inflateRaw, crc: Crc32 | undefined = options.crc32): BlobData => {
    const r = refs.get(id) ?? fail(`no blob '${id}' in this trace`);
    checkBlob(r.entry);
    if (r.length * 4 > maxBlob) {
      fail(`blob ${r.entry.name} inflates to ${formatBytes(r.length * 4)}, over the limit of ${formatBytes(maxBlob)} per blob${hint(hints.blob)}`);
    }
    let base: BlobData | undefined;
    if (isBasedCodec(r.codec)) {
      const baseId = bases.get(id)!;
      base = decoded?.get(baseId) ?? readBlob(baseId);
    }
    return decodeBlob(storedEntry(src, r.entry), r.codec, r.encoding, r.length, file, base, inflate, crc);
  };
  const stored = (id: string): StoredEntry | undefined => {
    const r = refs.get(id);
    return r === undefined ? undefined : storedEntry(src, r.entry);
  };
  return { header, blobIds: [...refs.keys()], readBlob, stored };
}
