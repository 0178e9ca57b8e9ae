/**
 * Writing `.exray` files (reading: file.ts). Two writers, one encoding:
 * - encodeTrace: a whole trace in memory to bytes, validated first (same rules as the reader), so
 *   nothing unreadable is ever written;
 * - TraceStreamWriter: trace events in, zip bytes out as they come. Each blob is written to the sink
 *   when its event arrives and is not kept, so writing a trace holds one tensor at a time, not the
 *   whole trace; `header.json` is folded from the other events and written last. The caller's sink
 *   puts the bytes somewhere (src/cli/trace-writer.ts: a temp file renamed at the end).
 *
 * Pure (no DOM, no Node). fflate's streaming `Zip`; each blob goes through blob-codec.ts encodeBlob
 * (byte planes deflated when that pays, masked4 / xor4 against an earlier blob when it is mostly equal
 * or close to it, else raw) and is added as one finished entry (its size and CRC-32 known, fflate's
 * custom-entry interface); header.json is written by fileHeaderJson (version 2 with `blobCodecs` when
 * some blob is encoded). The result reads back with decodeTrace / decodeTraceHeader. The stream
 * writer keeps only the previous blob (a masked4 base), where encodeTrace may use any earlier blob of
 * the same length: the stream writer holds two tensors at most.
 */
import { deflateSync, Zip, type ZipInputFile } from 'fflate';
import {
  crc32,
  encodeBlob,
  isBasedCodec,
  type BlobCodec,
  type Crc32,
  type EncodeBlobOptions,
  type EncodedBlob,
  type StoragePrecision,
} from './blob-codec.ts';
import { TraceFormatError, TraceRunError } from './errors.ts';
import { foldHeader } from './events.ts';
import { blobEntryName, ENCODED_BLOBS_VERSION, HEADER_ENTRY } from './file.ts';
import { validateStreamedTrace, validateTrace } from './schema.ts';
import type { BlobData, CapturePlan, KernelRecord, NamedTensor, NodeRecord, RunStartEvent, TimingSummary, Trace, TraceEvent, TraceHeader } from './types.ts';

/** Deflate level of header.json (small, very compressible). Blobs: blob-codec.ts. */
const HEADER_LEVEL = 6;

/** DOS timestamps span 1980..2107; fflate needs a Date in that range. */
function zipTime(createdAt: string): Date {
  const d = new Date(createdAt);
  const y = d.getFullYear();
  return Number.isFinite(d.getTime()) && y >= 1980 && y < 2100 ? d : new Date(1980, 0, 1);
}

export interface EncodeOptions {
  /**
   * float32 (default): values exact. float16 / bfloat16: float32 blobs of nodes and outputs are
   * narrowed (relative error ≤ 2^-11 / 2^-8, STORAGE_RELATIVE_ERROR) and the header records
   * `storagePrecision`; input tensors stay exact (a reference replays them), int32 blobs too.
   */
  precision?: StoragePrecision;
  /** false: blobs stored raw, as version-1 writers did. Default true (deflated byte planes where that saves ≥ 10 %). */
  compress?: boolean;
  /** A faster CRC-32 than blob-codec.ts's (Node: zlib's, src/io/zlib-native.ts). */
  crc32?: Crc32;
}

/** The coarser of two storage precisions (a value rounded twice carries the larger error). */
function coarser(a: StoragePrecision | undefined, b: StoragePrecision | undefined): 'float16' | 'bfloat16' | undefined {
  if (a === 'bfloat16' || b === 'bfloat16') return 'bfloat16';
  if (a === 'float16' || b === 'float16') return 'float16';
  return undefined;
}

/** The precision each blob of a trace is stored at: `precision` except the input tensors' blobs (exact). */
function blobPrecisions(header: TraceHeader, precision: StoragePrecision): (id: string) => StoragePrecision {
  if (precision === 'float32') return () => 'float32';
  const exact = new Set<string>();
  for (const t of header.input.tensors) if (t.blob) exact.add(t.blob.id);
  return (id) => (exact.has(id) ? 'float32' : precision);
}

/** What a writer learnt while encoding the blobs, for header.json (fileHeaderJson). */
interface WrittenBlobs {
  /** Each blob's EncodedBlob.codec (undefined = raw). */
  codecs: ReadonlyMap<string, BlobCodec | undefined>;
  /** The base blob id of each masked4 / xor4 blob. */
  bases: ReadonlyMap<string, string>;
  /** The precision asked for, and whether some blob was stored at it (sets `storagePrecision`). */
  precision: StoragePrecision;
  narrowed: boolean;
}

/**
 * header.json as a writer stores it: version 2 with `blobCodecs` (and `blobBases` for masked4 / xor4 blobs)
 * when some blob is encoded, else the header as is (version 1). For streaming writers too.
 */
function fileHeaderJson(header: TraceHeader, w: WrittenBlobs): string {
  const codecs: Record<string, BlobCodec> = {};
  let any = false;
  for (const [id, c] of w.codecs) {
    if (c !== undefined) {
      codecs[id] = c;
      any = true;
    }
  }
  const stored = w.narrowed ? coarser(header.storagePrecision, w.precision) : header.storagePrecision;
  const out: Record<string, unknown> = { ...header, version: any ? ENCODED_BLOBS_VERSION : header.version };
  if (stored !== undefined) out.storagePrecision = stored;
  if (any) out.blobCodecs = codecs;
  if (w.bases.size > 0) out.blobBases = Object.fromEntries(w.bases);
  return JSON.stringify(out);
}

/** Adds one finished entry (an encodeBlob result) to a streaming fflate Zip (fflate's custom-entry interface). */
function addZipEntry(zip: Zip, filename: string, e: EncodedBlob, mtime: Date): void {
  const file: ZipInputFile = { filename, size: e.size, crc: e.crc, compression: e.method, mtime };
  zip.add(file);
  // fflate's types want an ArrayBuffer-backed chunk; a blob over a SharedArrayBuffer is only read from.
  file.ondata!(null, e.data as Uint8Array<ArrayBuffer>, true);
}

/**
 * Serialises a trace to `.exray` bytes. The trace is validated first (same rules as the reader) so
 * that nothing unreadable is ever written; throws TraceFormatError(`trace <id>`, problem).
 * header.json is deflated; blobs go through encodeBlob (see docs/trace-format.md "Blob encodings").
 */
export function encodeTrace(trace: Trace, opts: EncodeOptions = {}): Uint8Array<ArrayBuffer> {
  const label = `trace ${trace.header.id}`;
  validateTrace(trace, label);
  const precision = opts.precision ?? 'float32';
  const precisionOf = blobPrecisions(trace.header, precision);
  const mtime = zipTime(trace.header.createdAt);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else {
      chunks.push(chunk);
      total += chunk.length;
    }
  });
  const codecs = new Map<string, BlobCodec | undefined>();
  const bases = new Map<string, string>();
  const blobs: [string, EncodedBlob][] = [];
  let narrowed = false;
  // The last blob of each length not itself masked: the base a masked4 / xor4 blob is stored against.
  const lastOfLength = new Map<number, { id: string; data: BlobData }>();
  for (const [id, data] of trace.blobs) {
    const blobPrecision = precisionOf(id);
    const base = blobPrecision === 'float32' || data instanceof Int32Array ? lastOfLength.get(data.length) : undefined;
    const blobOpts: EncodeBlobOptions = { precision: blobPrecision, compress: opts.compress ?? true, ...(base ? { base: base.data } : {}), ...(opts.crc32 ? { crc32: opts.crc32 } : {}) };
    const e = encodeBlob(data, blobOpts);
    if (e.codec === 'float16' || e.codec === 'bfloat16') narrowed = true;
    if (isBasedCodec(e.codec)) bases.set(id, base!.id);
    else lastOfLength.set(data.length, { id, data });
    codecs.set(id, e.codec);
    blobs.push([id, e]);
  }
  const json = new TextEncoder().encode(fileHeaderJson(trace.header, { codecs, bases, precision, narrowed }));
  const header = encodeEntry(json, HEADER_LEVEL, opts.crc32);
  addZipEntry(zip, HEADER_ENTRY, header, mtime);
  for (const [id, e] of blobs) addZipEntry(zip, blobEntryName(id), e, mtime);
  zip.end();
  if (failure) throw new TraceFormatError(label, `cannot be written (${(failure as Error).message})`);
  const out = new Uint8Array(total);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/** Bytes deflated at `level` as a zip entry. */
function encodeEntry(bytes: Uint8Array, level: 1 | 6, crc: Crc32 = crc32): EncodedBlob {
  return { codec: undefined, method: 8, data: deflateSync(bytes, { level }), size: bytes.length, crc: crc(bytes) };
}

/** Zip offsets are 32-bit without zip64 (which .exray does not use): the writer stops short of 4 GiB. */
const ZIP32_LIMIT = 0xffffffff;

export interface TraceStreamWriterOptions {
  /** Names the trace in errors (the output path). */
  file: string;
  /** Refuse a trace over this many bytes (default and upper bound: the zip format's 4 GiB). */
  maxBytes?: number;
  /** A faster CRC-32 than blob-codec.ts's (Node: zlib's, src/io/zlib-native.ts). */
  crc32?: Crc32;
}

/** Writes one trace, event by event, to `sink` (called synchronously with each zip chunk, in order). */
export class TraceStreamWriter {
  private readonly zip: Zip;
  private readonly file: string;
  private readonly maxBytes: number;
  private readonly crc32: Crc32;
  private start: RunStartEvent | undefined;
  private readonly nodes: NodeRecord[] = [];
  private readonly kernels: KernelRecord[] = [];
  private timing: TimingSummary | undefined;
  private end: { outputs: NamedTensor[]; warnings: string[]; capturePlan?: CapturePlan } | undefined;
  private failure: string | undefined;
  private readonly blobs = new Map<string, { encoding: 'float32' | 'int32'; length: number }>();
  private readonly codecs = new Map<string, BlobCodec | undefined>();
  private readonly bases = new Map<string, string>();
  /** The previous blob not itself masked: the base a masked4 / xor4 blob may be stored against. */
  private previous: { id: string; data: Float32Array | Int32Array } | undefined;
  private written = 0;
  private mtime: Date = new Date(1980, 0, 1);
  private zipError: Error | undefined;

  constructor(sink: (chunk: Uint8Array) => void, options: TraceStreamWriterOptions) {
    this.file = options.file;
    this.maxBytes = Math.min(options.maxBytes ?? ZIP32_LIMIT, ZIP32_LIMIT);
    this.crc32 = options.crc32 ?? crc32;
    this.zip = new Zip((err, chunk) => {
      if (err) {
        this.zipError = err;
        return;
      }
      this.written += chunk.length;
      sink(chunk);
    });
  }

  /** Bytes handed to the sink so far. */
  get bytesWritten(): number {
    return this.written;
  }

  private fail(problem: string): never {
    throw new TraceFormatError(this.file, problem);
  }

  push(event: TraceEvent): void {
    if (this.end !== undefined || this.failure !== undefined) this.fail(`'${event.type}' event after the run ended`);
    if (this.start === undefined && event.type !== 'run-start' && event.type !== 'run-error') this.fail(`'${event.type}' event before 'run-start'`);
    switch (event.type) {
      case 'run-start': {
        if (this.start !== undefined) this.fail(`second 'run-start' event; one stream carries one run`);
        this.start = event;
        this.mtime = zipTime(event.createdAt);
        return;
      }
      case 'blob':
        return this.writeBlob(event.id, event.data);
      case 'node':
        this.nodes.push(event.node);
        return;
      case 'kernel':
        this.kernels.push(event.kernel);
        return;
      case 'timing':
        this.timing = event.timing;
        return;
      case 'progress':
        return;
      case 'run-end':
        this.end = { outputs: event.outputs, warnings: event.warnings, ...(event.capturePlan ? { capturePlan: event.capturePlan } : {}) };
        return;
      case 'run-error':
        this.failure = event.message;
        return;
    }
  }

  private writeBlob(id: string, data: Float32Array | Int32Array): void {
    if (this.blobs.has(id)) this.fail(`blob '${id}' pushed twice; blob ids must be unique in a trace`);
    const encoding = data instanceof Int32Array ? 'int32' : 'float32';
    // Entry header, data descriptor and its central directory record: ~150 bytes on top of the values.
    if (this.blobs.size >= 65_000) this.fail(`more than 65,000 blobs: an .exray file is a zip without zip64 (capture fewer nodes with --nodes)`);
    if (this.written + data.byteLength + 256 * (this.blobs.size + 2) > this.maxBytes) {
      this.fail(
        `the trace would exceed ${(this.maxBytes / 1024 ** 3).toFixed(2)} GiB at blob '${id}' (an .exray file is a zip without zip64): capture fewer nodes (--nodes) or --capture stats`,
      );
    }
    const base = this.previous && this.previous.data.length === data.length ? this.previous : undefined;
    const e = encodeBlob(data, { compress: true, crc32: this.crc32, ...(base ? { base: base.data } : {}) });
    this.add(blobEntryName(id), e);
    this.blobs.set(id, { encoding, length: data.length });
    this.codecs.set(id, e.codec);
    if (isBasedCodec(e.codec)) this.bases.set(id, base!.id);
    else this.previous = { id, data };
  }

  private add(filename: string, e: EncodedBlob): void {
    addZipEntry(this.zip, filename, e, this.mtime);
    if (this.zipError) this.fail(`zip stream: ${this.zipError.message}`);
  }

  /**
   * The header (validated as the reader would), then header.json and the zip directory to the sink.
   * Throws TraceRunError after a `run-error` event, TraceFormatError when the trace breaks a rule; the
   * caller then discards what was written.
   */
  finish(): TraceHeader {
    if (this.failure !== undefined) throw new TraceRunError(this.file, this.failure);
    if (this.start === undefined) this.fail(`no 'run-start' event: the run did not start`);
    if (this.end === undefined) this.fail(`no 'run-end' event: the run did not finish`);
    const header = foldHeader(this.start, this.timing, this.nodes, this.kernels, this.end);
    validateStreamedTrace(header, this.blobs, this.file);
    this.previous = undefined;
    const json = new TextEncoder().encode(fileHeaderJson(header, { codecs: this.codecs, bases: this.bases, precision: 'float32', narrowed: false }));
    if (this.written + 2 * json.length + 256 * (this.blobs.size + 2) > this.maxBytes) this.fail(`the trace would exceed the zip format's 4 GiB with its header`);
    this.add(HEADER_ENTRY, encodeEntry(json, HEADER_LEVEL, this.crc32));
    this.zip.end();
    if (this.zipError) this.fail(`zip stream: ${this.zipError.message}`);
    return header;
  }
}
