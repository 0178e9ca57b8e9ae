/**
 * A streaming `.exray` writer: trace events in, zip bytes out as they come. Each blob is written to the
 * sink when its event arrives and is not kept, so writing a trace holds one tensor at a time, not the
 * whole trace; `header.json` is folded from the other events and written last. Pure (no DOM, no Node):
 * the caller's sink puts the bytes somewhere (src/cli/trace-writer.ts: a temp file renamed at the end).
 *
 * fflate's streaming `Zip`; each blob is encoded as encodeTrace encodes it (blob-codec.ts encodeBlob:
 * byte planes deflated when that pays, masked4 / xor4 against the previous blob when it is mostly equal or close to it,
 * else raw) and added as one finished entry (its size and CRC-32 known, fflate's custom-entry
 * interface); header.json is written by fileHeaderJson (version 2 with `blobCodecs` when some blob is
 * encoded). The result reads back with decodeTrace / decodeTraceHeader. Only the previous blob is kept
 * (a masked4 base), where encodeTrace may use any earlier blob of the same length: the writer holds two
 * tensors at most.
 */
import { deflateSync, Zip } from 'fflate';
import { crc32, encodeBlob, isBasedCodec, type BlobCodec, type Crc32, type EncodedBlob } from './blob-codec.ts';
import { TraceFormatError, TraceRunError } from './errors.ts';
import { foldHeader } from './events.ts';
import { addZipEntry, blobEntryName, fileHeaderJson, HEADER_ENTRY } from './file.ts';
import { validateStreamedTrace } from './schema.ts';
import type { CapturePlan, KernelRecord, NamedTensor, NodeRecord, RunStartEvent, TimingSummary, TraceEvent, TraceHeader } from './types.ts';

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
        const d = new Date(event.createdAt);
        if (Number.isFinite(d.getTime()) && d.getFullYear() >= 1980 && d.getFullYear() < 2100) this.mtime = d;
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
    this.add(HEADER_ENTRY, { codec: undefined, method: 8, data: deflateSync(json, { level: 6 }), size: json.length, crc: this.crc32(json) });
    this.zip.end();
    if (this.zipError) this.fail(`zip stream: ${this.zipError.message}`);
    return header;
  }
}
