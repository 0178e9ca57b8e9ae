/**
 * How one tensor blob is stored in an `.exray` zip entry, both ways. Pure: no DOM, no Node.
 *
 * encodeBlob turns a Float32Array / Int32Array into the bytes of its zip entry: raw little-endian
 * values (codec absent), or byte planes (`shuffle4`: every value's byte 0, then every byte 1, …; the
 * high bytes of activations — sign and exponent — repeat a lot, so deflate finds them), optionally
 * narrowed to float16 / bfloat16 first. The planes are deflated (zip method 8, by plane-deflate.ts:
 * Huffman-coded blocks where that pays, stored blocks for the near-random low mantissa planes) only
 * when that saves at least MIN_SAVING of the entry; else the blob is stored raw (method 0). decodeBlob inverts it with the reader's hardening: inflation bounded by
 * the declared size, CRC-32 checked, every problem a TraceFormatError naming the file and the entry.
 * `masked4` stores a blob against an earlier one of the same length (its `base`): a bit mask of the
 * values equal bit for bit, then the byte planes of the others — a ReLU's output is mostly its input
 * or zero, so it costs about a bit a value. `xor4` stores each value XOR its base's, for blobs close
 * to their base but rarely equal (a residual Add's output against its input). Layout and measurements: docs/trace-format.md "Blob
 * encodings". A streaming writer calls encodeBlob per blob and records `codec` (and the base's id)
 * in header.json (fileHeaderJson in file-writer.ts).
 */
import { Inflate, inflateSync } from 'fflate';
import { TraceFormatError } from './errors.ts';
import { crc32, type Crc32 } from './crc32.ts';
import { LITTLE_ENDIAN, masked32, narrow, shuffle32, unmask32, unshuffle32, unxorShuffle32, widen, words, xorPays, xorShuffle32 } from './byte-planes.ts';
import { deflatePlanes } from './plane-deflate.ts';
import type { BlobData } from './types.ts';

/** How values were stored: lossless, or narrowed (float32 blobs only; int32 blobs are always exact). */
export type StoragePrecision = 'float32' | 'float16' | 'bfloat16';
export const STORAGE_PRECISIONS: readonly StoragePrecision[] = ['float32', 'float16', 'bfloat16'];

/**
 * The layout of an entry's (uncompressed) bytes; absent = raw little-endian 4-byte values.
 * `shuffle4`: 4 byte planes of the 4-byte values. `float16` / `bfloat16`: 2 byte planes of the values
 * narrowed to IEEE binary16 / bfloat16 (round to nearest even).
 */
export type BlobCodec = 'shuffle4' | 'float16' | 'bfloat16' | 'masked4' | 'xor4';
export const BLOB_CODECS: readonly BlobCodec[] = ['shuffle4', 'float16', 'bfloat16', 'masked4', 'xor4'];

/**
 * Codecs stored against a base blob (header.json `blobBases`): `masked4` (a mask of the values equal
 * to the base's, then the others) and `xor4` (the byte planes of each value XOR the base's value).
 */
export function isBasedCodec(codec: BlobCodec | undefined): codec is 'masked4' | 'xor4' {
  return codec === 'masked4' || codec === 'xor4';
}

/** Largest relative error of a value stored at a precision (normal range; float16 subnormals: absolute 2^-25). */
export const STORAGE_RELATIVE_ERROR: Readonly<Record<StoragePrecision, number>> = {
  float32: 0,
  float16: 2 ** -11,
  bfloat16: 2 ** -8,
};

/** Bytes per value in an entry of this codec (masked4: of each value that differs from its base). */
export function codecWidth(codec: BlobCodec | undefined): 2 | 4 {
  return codec === 'float16' || codec === 'bfloat16' ? 2 : 4;
}

/**
 * Whether `size` bytes can be an entry of `length` values stored as `codec`; the problem (the size it
 * should have) or null. masked4 entries hold a ceil(length / 8) byte mask and 4 bytes per differing value.
 */
export function entrySizeProblem(codec: BlobCodec | undefined, length: number, size: number): string | null {
  if (codec === 'masked4') {
    const mask = Math.ceil(length / 8);
    if (size >= mask && size <= mask + 4 * length && (size - mask) % 4 === 0) return null;
    return `${mask} + 4 × (0…${length}) bytes`;
  }
  const want = length * codecWidth(codec);
  return size === want ? null : `${want} bytes`;
}

/**
 * A blob is stored as masked4 against a base (an earlier blob of the same length) only when at least
 * this fraction of its values equal the base's bit for bit: a ReLU's output against its input.
 */
export const MIN_EQUAL = 0.2;

/**
 * A blob with a base that is not masked4 is stored as xor4 when a sample says XOR with the base
 * saves at least this many bits per value in its top two bytes (a residual Add against its input).
 */
export const MIN_XOR_GAIN_BITS = 0.5;

/** A blob is deflated only when that saves at least this fraction of its entry (else stored raw). */
export const MIN_SAVING = 0.1;
const STEP = 64 * 1024;

export interface EncodeBlobOptions {
  /** float32 (default) keeps values exact; float16 / bfloat16 narrow float32 blobs (int32 blobs stay exact). */
  precision?: StoragePrecision;
  /** false: store raw, as version-1 writers did. Default true. */
  compress?: boolean;
  /**
   * An earlier blob of the same length (the writer passes the last one not itself masked): when enough
   * values equal it bit for bit, the blob is stored as masked4 (a mask + the values that differ). The
   * caller records the base's id (header.json `blobBases`). Else, when XOR with the base pays, xor4.
   * Lossless precision only.
   */
  base?: BlobData;
  /** A faster CRC-32 than this module's (Node: zlib's, src/io/zlib-native.ts); the same checksum. */
  crc32?: Crc32;
}

/** One blob as a zip entry: what a zip writer (fflate Zip, ZipInputFile) needs. */
export interface EncodedBlob {
  /** Layout of the uncompressed entry bytes; undefined = raw little-endian values. */
  codec: BlobCodec | undefined;
  /** Zip compression method of `data`: 0 stored, 8 deflate. */
  method: 0 | 8;
  /** The entry's data as it goes into the zip (deflated when method is 8). */
  data: Uint8Array;
  /** Uncompressed entry size in bytes (the zip directory's size). */
  size: number;
  /** CRC-32 of the uncompressed entry bytes (the zip directory's crc). */
  crc: number;
}

export { crc32, crc32Combine, type Crc32 } from './crc32.ts';

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** Where the planes of an entry start (deflatePlanes codes each apart). */
function planeCuts(codec: BlobCodec, length: number, size: number): number[] {
  if (codec === 'masked4') {
    const mask = (length + 7) >>> 3;
    const m = (size - mask) / 4;
    return [mask, mask + m, mask + 2 * m, mask + 3 * m];
  }
  return codec === 'float16' || codec === 'bfloat16' ? [length] : [length, 2 * length, 3 * length];
}

function rawLittleEndian(data: BlobData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return view;
  return shuffleInverseForBigEndian(words(data));
}

/** Little-endian bytes of values read as numbers (big-endian platforms only). */
function shuffleInverseForBigEndian(w: Uint32Array): Uint8Array {
  const out = new Uint8Array(w.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < w.length; i++) dv.setUint32(i * 4, w[i]!, true);
  return out;
}

/**
 * One blob as a zip entry. Lossless unless `precision` narrows a float32 blob; then every finite
 * value is within STORAGE_RELATIVE_ERROR[precision] of the original (float16: values below 2^-14 in
 * magnitude within 2^-25 absolute), NaN stays NaN, ±Inf and ±0 stay, and a blob with a finite value
 * beyond float16's range (|x| > 65504) is kept exact instead.
 */
export function encodeBlob(data: BlobData, opts: EncodeBlobOptions = {}): EncodedBlob {
  const precision = opts.precision ?? 'float32';
  const compress = opts.compress ?? true;
  const crc = opts.crc32 ?? crc32;
  let planes: Uint8Array | null = null;
  let codec: BlobCodec | undefined;
  if (precision !== 'float32' && data instanceof Float32Array) {
    planes = narrow(words(data), precision);
    if (planes) codec = precision;
  }
  if (!planes && compress && opts.base && opts.base.length === data.length && data.length > 0) {
    const w = words(data);
    const b = words(opts.base);
    planes = masked32(w, b, MIN_EQUAL);
    if (planes) codec = 'masked4';
    else if (xorPays(w, b, MIN_XOR_GAIN_BITS)) {
      planes = xorShuffle32(w, b);
      codec = 'xor4';
    }
  }
  if (!planes && compress && data.length > 0) {
    planes = shuffle32(words(data));
    codec = 'shuffle4';
  }
  if (!planes) {
    const raw = rawLittleEndian(data);
    return { codec: undefined, method: 0, data: raw, size: raw.length, crc: crc(raw) };
  }
  if (compress) {
    const packed = deflatePlanes(planes, planeCuts(codec!, data.length, planes.length));
    if (packed.length <= planes.length * (1 - MIN_SAVING)) {
      return { codec, method: 8, data: packed, size: planes.length, crc: crc(planes) };
    }
  }
  if (codec === 'masked4' && planes.length <= data.byteLength * (1 - MIN_SAVING)) {
    return { codec, method: 0, data: planes, size: planes.length, crc: crc(planes) };
  }
  if (codec === 'shuffle4' || isBasedCodec(codec)) {
    // Planes that do not deflate are no better than raw values: store those (readable by version-1 readers' layout).
    const raw = rawLittleEndian(data);
    return { codec: undefined, method: 0, data: raw, size: raw.length, crc: crc(raw) };
  }
  return { codec, method: 0, data: planes, size: planes.length, crc: crc(planes) };
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** An entry as the zip directory describes it, with its data bytes (still compressed when method is 8). */
export interface StoredEntry {
  /** The entry's name, for messages (`tensors/x.bin`). */
  name: string;
  method: number;
  /** Declared uncompressed size (from the directory; untrusted). */
  size: number;
  /** Declared CRC-32 of the uncompressed bytes. */
  crc: number;
  data: Uint8Array;
}

class EntryTooLarge extends Error {}

/**
 * Thrown by a RawInflate when the data inflates to more than its limit (the entry's declared size):
 * inflateEntry reports it as an entry larger than declared.
 */
export class InflateOverflow extends Error {
  constructor() {
    super('inflates past its declared size');
    this.name = 'InflateOverflow';
  }
}

/**
 * A raw-deflate inflater a caller supplies in place of fflate's (Node: zlib's native inflateRawSync,
 * src/io/zlib-native.ts): the bytes `data` inflates to. It must stop and throw InflateOverflow as soon
 * as the output would exceed `limit` (the entry's declared size, already checked against the reader's
 * caps), and throw any other error for data that is not deflate. The result may be a view; inflateEntry
 * copies it unless it starts a buffer of its own no larger than `limit` + 1 bytes.
 */
export type RawInflate = (data: Uint8Array, limit: number) => Uint8Array;

/**
 * The uncompressed bytes of an entry, a view at offset 0 of a fresh buffer (of the declared size, or
 * one byte more). Work is bounded by that size (deflate is inflated in 64 KiB steps and abandoned as
 * soon as it overshoots; a caller's `inflate` stops at the declared size itself),
 * and the CRC-32 is checked (by `crc`, default this module's). Throws TraceFormatError(file, …) naming the entry.
 */
export function inflateEntry(e: StoredEntry, file: string, inflate?: RawInflate, crc: Crc32 = crc32): Uint8Array {
  const fail = (problem: string): never => {
    throw new TraceFormatError(file, problem);
  };
  if (e.method === 8 && e.data.length > 0 && inflate !== undefined) {
    let got: Uint8Array;
    try {
      got = inflate(e.data, e.size);
    } catch (err) {
      if (err instanceof InflateOverflow) fail(`corrupt zip: entry ${e.name} inflates to more than its declared ${e.size} bytes`);
      return fail(`corrupt zip: entry ${e.name} cannot be inflated (${(err as Error).message})`);
    }
    if (got.length > e.size) fail(`corrupt zip: entry ${e.name} inflates to more than its declared ${e.size} bytes`);
    if (got.length !== e.size) fail(`corrupt zip: entry ${e.name} inflates to ${got.length} bytes, its declared size is ${e.size}`);
    // Blobs become typed arrays over these bytes: they need a buffer of their own, 4-byte aligned
    // (Node's zlib returns small outputs as views into its shared allocation pool).
    const own = got.byteOffset === 0 && got.buffer.byteLength <= e.size + 1 && got.buffer instanceof ArrayBuffer;
    const out = own ? got : new Uint8Array(got);
    if (crc(out) !== e.crc) fail(`corrupt file: entry ${e.name} fails its CRC-32 check`);
    return out;
  }
  if (e.method === 8 && e.data.length > 0 && e.data.length <= STEP) {
    // One step's worth of deflate inflated in one call, straight into a buffer of the declared size
    // (+1 byte, to see an overshoot): the work bound is the streaming path's for one step, without
    // fflate's streaming Inflate growing a 128 KiB buffer per push, which cost more than the inflating
    // itself on a trace of many small blobs (the viewer opening 2 × 1,000 blobs of 16 KiB, issue #16).
    const room = new Uint8Array(e.size + 1);
    let got: Uint8Array;
    try {
      got = inflateSync(e.data, { out: room });
    } catch (err) {
      // fflate copies a stored block into `room` with set(), which throws RangeError past its end.
      if (err instanceof RangeError) fail(`corrupt zip: entry ${e.name} inflates to more than its declared ${e.size} bytes`);
      return fail(`corrupt zip: entry ${e.name} cannot be inflated (${(err as Error).message})`);
    }
    if (got.length > e.size) fail(`corrupt zip: entry ${e.name} inflates to more than its declared ${e.size} bytes`);
    if (got.length !== e.size) fail(`corrupt zip: entry ${e.name} inflates to ${got.length} bytes, its declared size is ${e.size}`);
    const out = room.subarray(0, e.size);
    if (crc(out) !== e.crc) fail(`corrupt file: entry ${e.name} fails its CRC-32 check`);
    return out;
  }
  const out = new Uint8Array(e.size);
  if (e.method === 0) {
    if (e.data.length !== e.size) fail(`corrupt zip: stored entry ${e.name} has ${e.data.length} bytes but size ${e.size}`);
    // A copy, never data.slice(): Node's Buffer.slice returns a view (unaligned, aliasing the file bytes).
    out.set(e.data);
  } else if (e.method === 8) {
    let written = 0;
    const inflater = new Inflate((chunk: Uint8Array) => {
      if (written + chunk.length > e.size) throw new EntryTooLarge();
      out.set(chunk, written);
      written += chunk.length;
    });
    try {
      const end = e.data.length;
      if (end === 0) inflater.push(new Uint8Array(0), true);
      for (let p = 0; p < end; p += STEP) {
        const q = Math.min(end, p + STEP);
        inflater.push(e.data.subarray(p, q), q === end);
      }
    } catch (err) {
      if (err instanceof EntryTooLarge) fail(`corrupt zip: entry ${e.name} inflates to more than its declared ${e.size} bytes`);
      fail(`corrupt zip: entry ${e.name} cannot be inflated (${(err as Error).message})`);
    }
    if (written !== e.size) fail(`corrupt zip: entry ${e.name} inflates to ${written} bytes, its declared size is ${e.size}`);
  } else {
    fail(`entry ${e.name} uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
  }
  if (crc(out) !== e.crc) fail(`corrupt file: entry ${e.name} fails its CRC-32 check`);
  return out;
}

/** decodeBlob's scratch: reused from blob to blob, kept up to SCRATCH_KEPT bytes (a larger entry gets a copy of its own). */
let scratch = new Uint8Array(0);
const SCRATCH_KEPT = 4 * 1024 * 1024;

/** `bytes` copied into the scratch (a view of it, valid until the next call), or into a copy of its own past SCRATCH_KEPT. */
function scratchCopy(bytes: Uint8Array): Uint8Array {
  // A copy, never bytes.slice(): Node's Buffer.slice is a view (zlib's output is a Buffer).
  if (bytes.length > SCRATCH_KEPT) return new Uint8Array(bytes);
  if (scratch.length < bytes.length) scratch = new Uint8Array(Math.min(SCRATCH_KEPT, Math.max(bytes.length, 2 * scratch.length)));
  const view = scratch.subarray(0, bytes.length);
  view.set(bytes);
  return view;
}

/**
 * A blob from its entry: inflated (bounded, CRC-checked), then un-shuffled / widened back to
 * float32. `length` and `encoding` come from header.json; the entry must hold exactly
 * length × codecWidth(codec) bytes (checked before anything is allocated). Fresh arrays, never views
 * of the file bytes. `inflate`: the caller's raw inflater (RawInflate) instead of fflate's; `crc`: its CRC-32.
 */
export function decodeBlob(
  e: StoredEntry,
  codec: BlobCodec | undefined,
  encoding: 'float32' | 'int32',
  length: number,
  file: string,
  base?: BlobData,
  inflate?: RawInflate,
  crc?: Crc32,
): BlobData {
  const sizeProblem = entrySizeProblem(codec, length, e.size);
  if (sizeProblem !== null) {
    throw new TraceFormatError(file, `blob ${e.name} is ${e.size} bytes but header.json says ${length} ${encoding} values stored as ${codec ?? 'raw'} (${sizeProblem})`);
  }
  if (isBasedCodec(codec) && (base === undefined || base.length !== length)) {
    throw new TraceFormatError(file, `blob ${e.name} is stored as ${codec} but its base blob of ${length} values is missing`);
  }
  if ((codec === 'float16' || codec === 'bfloat16') && encoding !== 'float32') {
    throw new TraceFormatError(file, `blob ${e.name} is ${encoding} but stored as ${codec}; only float32 blobs may be narrowed`);
  }
  const bytes = inflateEntry(e, file, inflate, crc);
  if (codec === 'float16' || codec === 'bfloat16') return widen(bytes, codec, length);
  if (codec === 'shuffle4' || codec === 'xor4') {
    // The values are written over the entry's own bytes (inflateEntry's fresh buffer at offset 0,
    // exactly 4 bytes a value), read back from a scratch copy: no second buffer of the blob's size.
    // Fresh memory is what costs here: in Chromium's trace reader, writing 16 MiB of blobs into new
    // arrays took 60–160 ms of page faults; the copy into a warm scratch, a few ms.
    const src = scratchCopy(bytes);
    const out = new Uint32Array(bytes.buffer, 0, length);
    if (codec === 'shuffle4') unshuffle32(src, out);
    else unxorShuffle32(src, words(base!), out);
    return encoding === 'float32' ? new Float32Array(bytes.buffer, 0, length) : new Int32Array(bytes.buffer, 0, length);
  }
  if (codec === 'masked4') {
    // Its entry is smaller than the values (equal values are a bit each): a buffer of their own.
    const out = encoding === 'float32' ? new Float32Array(length) : new Int32Array(length);
    const problem = unmask32(bytes, words(base!), words(out));
    if (problem !== null) throw new TraceFormatError(file, `corrupt file: blob ${e.name} (masked4): ${problem}`);
    return out;
  }
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const w = new Uint32Array(length);
    for (let i = 0; i < length; i++) w[i] = dv.getUint32(i * 4, true);
    return encoding === 'float32' ? new Float32Array(w.buffer) : new Int32Array(w.buffer);
  }
  return encoding === 'float32' ? new Float32Array(bytes.buffer, bytes.byteOffset, length) : new Int32Array(bytes.buffer, bytes.byteOffset, length);
}
