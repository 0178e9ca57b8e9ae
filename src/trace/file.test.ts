import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceFormatError } from './errors.ts';
import { decodeTrace, DEFAULT_MAX_UNCOMPRESSED_BYTES } from './file.ts';
import { encodeTrace } from './file-writer.ts';
import { crc32 } from './crc32.ts';
import { computeStats } from './stats.ts';
import { makeTrace, rng } from './test-fixtures.ts';
import type { BlobData, Trace } from './types.ts';

const FILE = 'pixel-7.exray';

function bytesOf(d: BlobData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function expectSameTrace(actual: Trace, expected: Trace): void {
  expect(actual.header).toEqual(expected.header);
  expect([...actual.blobs.keys()].sort()).toEqual([...expected.blobs.keys()].sort());
  for (const [id, data] of expected.blobs) {
    const got = actual.blobs.get(id)!;
    expect(got.constructor, id).toBe(data.constructor);
    expect(bytesOf(got), id).toEqual(bytesOf(data));
  }
}

function decodeError(bytes: Uint8Array, problem: RegExp, opts?: { maxUncompressedBytes?: number }): TraceFormatError {
  let caught: unknown;
  try {
    decodeTrace(bytes, FILE, opts);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a TraceFormatError matching ${problem}`).toBeInstanceOf(TraceFormatError);
  const err = caught as TraceFormatError;
  expect(err.file).toBe(FILE);
  expect(err.message).toBe(`${FILE}: ${err.problem}`);
  expect(err.problem).toMatch(problem);
  return err;
}

/** Unzips, lets `edit` change the entries, zips again. */
function rezip(bytes: Uint8Array, edit: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files = unzipSync(bytes);
  edit(files);
  return zipSync(files);
}

// Tests edit untyped JSON on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function editHeader(bytes: Uint8Array, edit: (h: Json) => void): Uint8Array {
  return rezip(bytes, (files) => {
    const h: Json = JSON.parse(strFromU8(files['header.json']!));
    edit(h);
    files['header.json'] = strToU8(JSON.stringify(h));
  });
}

const DV = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Offsets of the central directory entries of a zip (test helper; the fixture zips have no comment). */
function centralEntries(b: Uint8Array): number[] {
  const dv = DV(b);
  const eocd = b.length - 22;
  expect(dv.getUint32(eocd, true)).toBe(0x06054b50);
  const out: number[] = [];
  let p = dv.getUint32(eocd + 16, true);
  for (let i = 0; i < dv.getUint16(eocd + 10, true); i++) {
    out.push(p);
    p += 46 + dv.getUint16(p + 28, true) + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
  return out;
}

describe('encodeTrace / decodeTrace', () => {
  const trace = makeTrace();
  const bytes = encodeTrace(trace);

  it('round-trips: header deep-equal, blobs byte-equal with their typed array class', () => {
    const back = decodeTrace(bytes, FILE);
    expectSameTrace(back, trace);
    expect(back.blobs.get(trace.header.input.tensors[0]!.blob!.id)).toBeInstanceOf(Int32Array);
    // NaN statistics come back as NaN.
    expect(back.header.nodes[4]!.outputs[0]!.stats!.mean).toBeNaN();
  });

  it('round-trips an empty trace (no nodes, no kernels) and unknown additive header fields', () => {
    const t = makeTrace();
    const extended: Trace = {
      header: { ...t.header, nodes: [], kernels: [], gpuMemoryMb: 512, model: { ...t.header.model, opset: 13 } } as Trace['header'],
      blobs: new Map([...t.blobs].filter(([id]) => id.startsWith('0000') || id.startsWith('0005'))),
    };
    expectSameTrace(decodeTrace(encodeTrace(extended), FILE), extended);
  });

  it('without compression writes header.json (NaN as null) and one stored tensors/<id>.bin per blob, little-endian (version 1)', () => {
    const listed: { name: string; compression: number }[] = [];
    const files = unzipSync(encodeTrace(trace, { compress: false }), { filter: (f) => (listed.push({ name: f.name, compression: f.compression }), true) });
    expect(listed.map((f) => f.name).sort()).toEqual(['header.json', ...[...trace.blobs.keys()].map((id) => `tensors/${id}.bin`)].sort());
    for (const f of listed) expect(f.compression, f.name).toBe(f.name === 'header.json' ? 8 : 0);
    const json: Json = JSON.parse(strFromU8(files['header.json']!));
    expect(json.version).toBe(1);
    expect(json.blobCodecs).toBeUndefined();
    expect(json.nodes[4].outputs[0].stats).toMatchObject({ min: null, max: null, mean: null, std: null, histogram: { min: null, max: null, counts: [] } });
    const conv = trace.blobs.get(trace.header.nodes[0]!.outputs[0]!.blob!.id) as Float32Array;
    const raw = files[`tensors/${trace.header.nodes[0]!.outputs[0]!.blob!.id}.bin`]!;
    for (let i = 0; i < conv.length; i++) expect(DV(raw).getFloat32(i * 4, true)).toBe(conv[i]);
  });

  it('accepts an empty tensors/ directory entry (added by zip tools), nothing else in it', () => {
    const withDir = rezip(bytes, (f) => (f['tensors/'] = new Uint8Array(0)));
    expectSameTrace(decodeTrace(withDir, FILE), trace);
    decodeError(rezip(bytes, (f) => (f['tensors/'] = new Uint8Array(3))), /^entry tensors\/ must be an empty directory entry$/);
  });

  it('is deterministic and decoded blobs do not alias the input bytes', () => {
    expect(encodeTrace(trace)).toEqual(bytes);
    const copy = bytes.slice();
    const back = decodeTrace(copy, FILE);
    copy.fill(0);
    expectSameTrace(back, trace);
  });

  it('reads from a Buffer-like input whose slice() is a view at an odd offset (Node readFile)', () => {
    class BufferLike extends Uint8Array {
      override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
        return this.subarray(start, end);
      }
    }
    const padded = new BufferLike(bytes.length + 1);
    padded.set(bytes, 1);
    const input = padded.subarray(1);
    const back = decodeTrace(input, FILE);
    input.fill(0);
    expectSameTrace(back, trace);
  });

  it('encodes blobs that are views into a larger buffer', () => {
    const t = makeTrace();
    const id = t.header.nodes[3]!.outputs[0]!.blob!.id;
    const big = new Float32Array(100);
    big.set(t.blobs.get(id) as Float32Array, 37);
    t.blobs.set(id, big.subarray(37, 47));
    expectSameTrace(decodeTrace(encodeTrace(t), FILE), t);
  });

  it('refuses to write an invalid trace', () => {
    const t = makeTrace();
    t.blobs.delete(t.header.outputs[0]!.blob!.id);
    expect(() => encodeTrace(t)).toThrow(TraceFormatError);
    expect(() => encodeTrace(t)).toThrow(/^trace 5b0c3f9e-3d1a-4c47-9d1e-7f3f0a1b2c3d: blob '0005-Identity-0' referenced by nodes\[5\]\.outputs\[0\]\.blob is missing$/);
    const u = makeTrace();
    u.header.kernels[0]!.ms = NaN;
    expect(() => encodeTrace(u)).toThrow(/kernels\[0\]\.ms must be a non-negative finite number/);
  });
});

describe('decodeTrace rejects corrupt and hostile files with TraceFormatError', () => {
  const trace = makeTrace();
  const bytes = encodeTrace(trace);
  // Blobs stored raw (the conv output's Gaussian values would deflate as byte planes).
  const rawBytes = encodeTrace(trace, { compress: false });
  const convId = trace.header.nodes[0]!.outputs[0]!.blob!.id;

  it('not a zip', () => {
    decodeError(new Uint8Array(0), /^not a zip archive \(0 bytes is too short\)$/);
    decodeError(Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff), /^not a zip archive \(no end-of-central-directory record\)$/);
    decodeError(strToU8(JSON.stringify(trace.header)), /not a zip archive .*it looks like JSON/);
    decodeError(bytes.subarray(0, bytes.length >> 1), /^not a zip archive/);
  });

  it('missing header.json', () => {
    decodeError(rezip(bytes, (f) => delete f['header.json']), /^missing header\.json \(is this an \.exray file\?\)$/);
  });

  it('header.json not UTF-8 / not JSON / not an object', () => {
    decodeError(rezip(bytes, (f) => (f['header.json'] = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), /^header\.json is not valid UTF-8$/);
    decodeError(rezip(bytes, (f) => (f['header.json'] = strToU8('{"format": "exray-trace", '))), /^header\.json is not valid JSON \(/);
    decodeError(rezip(bytes, (f) => (f['header.json'] = strToU8('[1, 2]'))), /^header\.json must contain a JSON object \(got an array\)$/);
  });

  it('wrong format', () => {
    decodeError(editHeader(bytes, (h) => (h.format = 'netron-graph')), /^not an exray trace: format is the string "netron-graph", expected 'exray-trace'$/);
    decodeError(editHeader(bytes, (h) => delete h.format), /^not an exray trace: header\.json has no "format" field/);
  });

  it('unsupported version, naming the supported ones', () => {
    decodeError(editHeader(bytes, (h) => (h.version = 3)), /^unsupported version 3; this reader supports version 1, 2$/);
    decodeError(editHeader(bytes, (h) => (h.version = '1')), /^unsupported version the string "1"; this reader supports version 1, 2$/);
  });

  it('schema violations name the JSON path', () => {
    decodeError(editHeader(bytes, (h) => (h.nodes[1].outputs[0].shape[1] = -4)), /^nodes\[1\]\.outputs\[0\]\.shape\[1\] must be a non-negative integer$/);
    decodeError(editHeader(bytes, (h) => (h.nodes[1].outputs[0].shape[1] = 2.5)), /^nodes\[1\]\.outputs\[0\]\.shape\[1\] must be a non-negative integer$/);
    decodeError(editHeader(bytes, (h) => (h.kernels[3].clock = 'sundial')), /^kernels\[3\]\.clock must be one of 'wall', 'wall-with-readback', .*'unavailable' \(got the string "sundial"\)$/);
    decodeError(editHeader(bytes, (h) => delete h.model), /^model is required$/);
    decodeError(editHeader(bytes, (h) => (h.environment.flags['WEBGL PACK'] = null)), /^environment\.flags\["WEBGL PACK"\] must be a string, a finite number or a boolean$/);
    decodeError(editHeader(bytes, (h) => (h.nodes[0].outputs[0].stats.mean = 'high')), /^nodes\[0\]\.outputs\[0\]\.stats\.mean must be a finite number, or null when the tensor has no finite value$/);
    decodeError(editHeader(bytes, (h) => (h.createdAt = 'yesterday')), /^createdAt must be an ISO 8601 date-time/);
    decodeError(editHeader(bytes, (h) => (h.nodes[0].outputs[0].blob.id = '../../etc/passwd')), /^nodes\[0\]\.outputs\[0\]\.blob\.id must be a blob id/);
    const many = decodeError(editHeader(bytes, (h) => { h.capture = 'everything'; h.nodes[0].index = -1; }), /^capture must be one of/);
    expect(many.problem).toMatch(/\(and 1 more problem\)$/);
  });

  it('missing blob', () => {
    decodeError(rezip(bytes, (f) => delete f[`tensors/${convId}.bin`]), new RegExp(`^missing blob tensors/${convId}\\.bin \\(referenced by nodes\\[0\\]\\.outputs\\[0\\]\\.blob\\)$`));
  });

  it('blob byte length different from length × 4', () => {
    decodeError(
      rezip(rawBytes, (f) => (f[`tensors/${convId}.bin`] = new Uint8Array(128 * 4 + 3))),
      new RegExp(`^blob tensors/${convId}\\.bin is 515 bytes but nodes\\[0\\]\\.outputs\\[0\\]\\.blob says 128 float32 values \\(512 bytes\\)$`),
    );
  });

  it('node kernel index out of range', () => {
    decodeError(editHeader(bytes, (h) => (h.nodes[3].kernels = [4, 99])), /^nodes\[3\]\.kernels\[1\] is 99, out of range: the trace has 8 kernels$/);
  });

  it('kernel attributed to another node', () => {
    decodeError(editHeader(bytes, (h) => (h.nodes[3].kernels = [5])), /^nodes\[3\]\.kernels\[0\] is kernel 5, whose node is 'Identity', not 'model\/dense\/MatMul·Ωmega'$/);
  });

  it('duplicate node names', () => {
    decodeError(editHeader(bytes, (h) => { h.nodes[4].name = h.nodes[2].name; }), /^nodes\[4\]\.name 'model\/pool\/Mean' duplicates nodes\[2\]\.name$/);
  });

  it('tensor shape product different from blob length', () => {
    decodeError(editHeader(bytes, (h) => (h.nodes[0].outputs[0].shape = [1, 4, 4, 4])), /^nodes\[0\]\.outputs\[0\]\.blob\.length is 128 but shape \[1,4,4,4\] has 64 elements/);
  });

  it('other rules: execution order, stats consistency, ms vs clock, required input blob', () => {
    decodeError(editHeader(bytes, (h) => (h.nodes[2].index = 1)), /^nodes\[2\]\.index is 1, not greater than nodes\[1\]\.index \(1\)/);
    decodeError(editHeader(bytes, (h) => (h.kernels[2].index = 7)), /^kernels\[2\]\.index is 7; kernels must be stored in execution order/);
    decodeError(editHeader(bytes, (h) => (h.nodes[0].outputs[0].stats.histogram.counts[0] += 1)), /^nodes\[0\]\.outputs\[0\]\.stats\.histogram\.counts sum to 129 but the tensor has 128 finite values$/);
    decodeError(editHeader(bytes, (h) => (h.kernels[3].ms = 0.5)), /^kernels\[3\]\.ms must be null when clock is 'unavailable'$/);
    decodeError(editHeader(bytes, (h) => (h.kernels[0].ms = null)), /^kernels\[0\]\.ms is null but clock is 'gpu-timer-query'/);
    decodeError(editHeader(bytes, (h) => (h.nodes[0].outputs[0].stats.min = null)), /^nodes\[0\]\.outputs\[0\]\.stats\.min is null but the tensor has 128 finite values$/);
    decodeError(
      rezip(editHeader(bytes, (h) => delete h.input.tensors[0].blob), (f) => delete f['tensors/0000-input_image_0-0.bin']),
      /^input\.tensors\[0\]\.blob is required/,
    );
  });

  it('zip bomb: declared total over the cap', () => {
    const bomb = zipSync({ 'header.json': new Uint8Array(0), 'tensors/a.bin': [new Uint8Array(2 * 1024 * 1024), { level: 9 }] });
    expect(bomb.length).toBeLessThan(10_000);
    decodeError(bomb, /^uncompressed size 2 MiB exceeds the limit of 1 MiB \(zip bomb or oversized trace\)$/, { maxUncompressedBytes: 1024 * 1024 });
    // The default 4 GiB cap, with sizes claimed in the central directory (nothing is allocated).
    const claims = zipSync({ 'header.json': [strToU8('{}'), { level: 6 }], 'tensors/a.bin': [new Uint8Array(64), { level: 6 }] });
    for (const p of centralEntries(claims)) DV(claims).setUint32(p + 24, 3 * 1024 ** 3, true);
    expect(DEFAULT_MAX_UNCOMPRESSED_BYTES).toBe(4 * 1024 ** 3);
    decodeError(claims, /^uncompressed size 6(\.\d+)? GiB exceeds the limit of 4 GiB/);
  });

  it('zip bomb: an entry that inflates past its declared size is stopped early', () => {
    const big = zipSync({ 'header.json': [new Uint8Array(64 * 1024 * 1024), { level: 1 }] });
    for (const p of centralEntries(big)) DV(big).setUint32(p + 24, 16, true);
    // The reader stops at the first inflated chunk past the declared size (speed is for benchmarks).
    decodeError(big, /^corrupt zip: entry header\.json inflates to more than its declared 16 bytes$/);
  });

  it('unexpected entries: outside the layout, or a blob nothing references', () => {
    decodeError(rezip(bytes, (f) => (f['../evil.sh'] = strToU8('rm -rf /'))), /^unexpected entry "\.\.\/evil\.sh": an \.exray file holds only header\.json and tensors\/<blob id>\.bin$/);
    decodeError(rezip(bytes, (f) => (f['tensors/.hidden.bin'] = new Uint8Array(4))), /^unexpected entry "tensors\/\.hidden\.bin"/);
    decodeError(rezip(bytes, (f) => (f['tensors/extra.bin'] = new Uint8Array(4))), /^unexpected entry tensors\/extra\.bin: no tensor in header\.json references blob 'extra'$/);
  });

  it('duplicate entry names', () => {
    const files: Zippable = { 'header.json': strToU8('{}'), 'header.jsoX': strToU8('{}') };
    const z = zipSync(files);
    // Rename the second entry to header.json in both its local and central headers.
    const s = strFromU8(z, true);
    let from = 0;
    for (;;) {
      const at = s.indexOf('header.jsoX', from);
      if (at < 0) break;
      z[at + 10] = 'n'.charCodeAt(0);
      from = at + 1;
    }
    decodeError(z, /^duplicate entry header\.json$/);
  });

  it('CRC mismatch (a flipped bit in a stored blob)', () => {
    const flipped = rawBytes.slice();
    const marker = bytesOf(trace.blobs.get(convId)!);
    const at = strFromU8(flipped, true).indexOf(strFromU8(marker, true));
    expect(at).toBeGreaterThan(0);
    flipped[at + 100]! ^= 0x10;
    decodeError(flipped, new RegExp(`^corrupt file: entry tensors/${convId}\\.bin fails its CRC-32 check$`));
  });

  it('random damage never escapes as anything but TraceFormatError', () => {
    const r = rng(2024);
    let rejected = 0;
    for (let i = 0; i < 400; i++) {
      const b = bytes.slice(0, i % 4 === 0 ? Math.floor(r() * bytes.length) : bytes.length);
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        decodeTrace(b, FILE);
      } catch (e) {
        expect(e).toBeInstanceOf(TraceFormatError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(300);
  });
});

describe('CRC helper', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(strToU8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

const bitsOf = (b: Float32Array | Int32Array): Uint32Array => new Uint32Array(b.buffer, b.byteOffset, b.length);

describe('encoded blobs (file version 2) and version-1 files', () => {
  const trace = makeTrace();
  const relu = trace.header.nodes[1]!.outputs[0]!.blob!.id;

  it('reads version-2 files written by the previous encoder (byte planes deflated by fflate level 1; float16): the values of makeTrace()', () => {
    const exact = decodeTrace(new Uint8Array(readFileSync(join(import.meta.dirname, '../../test/fixtures/v2-fflate-planes.exray'))), FILE);
    const files = unzipSync(new Uint8Array(readFileSync(join(import.meta.dirname, '../../test/fixtures/v2-fflate-planes.exray'))));
    expect(JSON.parse(strFromU8(files['header.json']!)).blobCodecs).toEqual({ [trace.header.input.tensors[0]!.blob!.id]: 'shuffle4' });
    expect(exact.header).toEqual(trace.header);
    for (const [id, data] of trace.blobs) expect(bitsOf(exact.blobs.get(id)!), id).toEqual(bitsOf(data));
    const half = decodeTrace(new Uint8Array(readFileSync(join(import.meta.dirname, '../../test/fixtures/v2-fflate-float16.exray'))), FILE);
    expect(half.header.storagePrecision).toBe('float16');
    for (const [id, data] of trace.blobs) {
      const got = half.blobs.get(id)!;
      for (let i = 0; i < data.length; i++) {
        const x = data[i]!;
        if (!Number.isFinite(x)) expect(Object.is(got[i], x) || (Number.isNaN(x) && Number.isNaN(got[i])), `${id}[${i}]`).toBe(true);
        else if (Math.abs(x) >= 2 ** -14) expect(Math.abs(got[i]! - x) / Math.abs(x), `${id}[${i}]`).toBeLessThanOrEqual(2 ** -11);
      }
    }
  });

  it('reads a version-1 file written by the previous writer (stored, raw little-endian blobs)', () => {
    const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../../test/fixtures/v1-stored-raw.exray')));
    const files = unzipSync(bytes);
    expect(JSON.parse(strFromU8(files['header.json']!)).version).toBe(1);
    const back = decodeTrace(bytes, FILE);
    expect(back.header.version).toBe(1);
    expect(back.blobs.size).toBe(6);
    for (const [id, data] of back.blobs) {
      const raw = files[`tensors/${id}.bin`]!;
      expect(raw.length, id).toBe(data.length * 4);
      for (let i = 0; i < data.length; i++) {
        const v = data instanceof Int32Array ? DV(raw).getInt32(i * 4, true) : DV(raw).getFloat32(i * 4, true);
        expect(Object.is(data[i], v) || (Number.isNaN(data[i]) && Number.isNaN(v)), `${id}[${i}]`).toBe(true);
      }
    }
  });

  it('by default writes version 2 with blobCodecs for the blobs whose byte planes deflate, and reads them back bit-exact', () => {
    const bytes = encodeTrace(trace);
    const json: Json = JSON.parse(strFromU8(unzipSync(bytes)['header.json']!));
    expect(json.version).toBe(2);
    expect(Object.values(json.blobCodecs).length).toBeGreaterThan(0);
    for (const c of Object.values(json.blobCodecs)) expect(c).toBe('shuffle4');
    const back = decodeTrace(bytes, FILE);
    expectSameTrace(back, trace); // header.version 1 in memory, no blobCodecs
    expect(back.header).not.toHaveProperty('blobCodecs');
  });

  it('--precision float16: storagePrecision in the header, node blobs within 2^-11, input blobs exact', () => {
    const back = decodeTrace(encodeTrace(trace, { precision: 'float16' }), FILE);
    expect(back.header.storagePrecision).toBe('float16');
    const input = trace.header.input.tensors[0]!.blob!.id;
    expect(back.blobs.get(input)).toEqual(trace.blobs.get(input));
    const a = trace.blobs.get(relu) as Float32Array;
    const b = back.blobs.get(relu) as Float32Array;
    expect(b).not.toEqual(a);
    for (let i = 0; i < a.length; i++) {
      if (Number.isFinite(a[i])) expect(Math.abs(b[i]! - a[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * 2 ** -11 + 2 ** -25);
      else expect(b[i]).toBe(a[i]); // NaN, ±Infinity kept
    }
    // Written again losslessly, the trace still says its values went through float16.
    expect(decodeTrace(encodeTrace(back), FILE).header.storagePrecision).toBe('float16');
    expect(decodeTrace(encodeTrace(back, { precision: 'bfloat16' }), FILE).header.storagePrecision).toBe('bfloat16');
  });

  it('rejects a corrupt compressed blob, a lying declared size and bad blobCodecs with TraceFormatError', () => {
    const bytes = encodeTrace(trace, { precision: 'float16' });
    const at = centralEntries(bytes).find((p) => strFromU8(bytes.subarray(p + 46, p + 46 + DV(bytes).getUint16(p + 28, true))) === `tensors/${relu}.bin`)!;
    // A lying declared size (central directory): the header's length is checked first.
    const lying = bytes.slice();
    DV(lying).setUint32(at + 20, 64, true);
    DV(lying).setUint32(at + 24, 64, true);
    decodeError(lying, new RegExp(`^blob tensors/${relu}\\.bin is 64 bytes but nodes\\[1\\]\\.outputs\\[0\\]\\.blob says 128 float32 values stored as float16 \\(256 bytes\\)$`));
    // Damaged entry data.
    const local = DV(bytes).getUint32(at + 42, true);
    const dataStart = local + 30 + DV(bytes).getUint16(local + 26, true) + DV(bytes).getUint16(local + 28, true);
    const damaged = bytes.slice();
    for (let i = 0; i < 8; i++) damaged[dataStart + 2 + i]! ^= 0x5a;
    decodeError(damaged, new RegExp(`^corrupt (zip|file): entry tensors/${relu}\\.bin `));
    decodeError(editHeader(bytes, (h) => (h.blobCodecs[relu] = 'lzma')), /^blobCodecs\[".*"\] must be one of 'shuffle4', 'float16', 'bfloat16', 'masked4', 'xor4' \(got "lzma"\)$/);
    decodeError(editHeader(bytes, (h) => (h.blobCodecs['ghost'] = 'shuffle4')), /^blobCodecs names blob "ghost", which no tensor in header\.json references$/);
    decodeError(editHeader(bytes, (h) => delete h.blobCodecs), /^version 2 needs a "blobCodecs" object$/);
    decodeError(editHeader(bytes, (h) => (h.version = 1)), /^"blobCodecs" needs version 2; this file says version 1$/);
  });

  it('masked4 (the ReLU6 output stored against the conv output): bases named in blobBases, checked', () => {
    const t = makeTrace();
    const conv = t.header.nodes[0]!.outputs[0]!.blob!.id;
    const values = (t.blobs.get(conv) as Float32Array).map((v) => Math.min(6, Math.max(0, v)));
    t.blobs.set(relu, values);
    t.header.nodes[1]!.outputs[0]!.stats = computeStats(values);
    const bytes = encodeTrace(t);
    const json: Json = JSON.parse(strFromU8(unzipSync(bytes)['header.json']!));
    expect(json.blobCodecs[relu]).toBe('masked4');
    expect(json.blobBases).toEqual({ [relu]: conv });
    expectSameTrace(decodeTrace(bytes, FILE), t);
    decodeError(editHeader(bytes, (h) => delete h.blobBases), new RegExp(`^blob tensors/${relu}\\.bin is stored as masked4 but blobBases names no base for it$`));
    decodeError(editHeader(bytes, (h) => (h.blobBases[relu] = 'ghost')), /^blobBases\[".*"\] is "ghost", which no tensor in header\.json references$/);
    decodeError(editHeader(bytes, (h) => (h.blobBases[relu] = relu)), /is itself masked4$/);
    decodeError(editHeader(bytes, (h) => (h.blobBases[conv] = relu)), /^blobBases names blob ".*", which is not stored as masked4 or xor4$/);
  });
});
