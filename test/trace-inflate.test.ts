/**
 * The trace reader's native inflaters (DecodeOptions.inflateRaw: Node's zlib, src/io/zlib-native.ts,
 * also with its CRC-32 as decodeTraceNode reads;
 * decodeTraceAsync: DecompressionStream, src/trace/inflate-stream.ts, raw or as gzip with the CRC-32
 * checked natively) against fflate, the default: the
 * same trace, byte for byte, from a real MobileNetV2 capture (every blob codec lossless writing uses) and the
 * committed fixtures; the same TraceFormatError for corrupt, oversized and lying entries.
 */
import { deflateSync, strFromU8, unzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeTraceNode, encodeTraceNode, zlibCrc32, zlibInflateRaw } from '../src/io/zlib-native.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { crc32, InflateOverflow } from '../src/trace/blob-codec.ts';
import { TraceFormatError } from '../src/trace/errors.ts';
import { decodeTrace, decodeTraceAsync } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { streamInflateAvailable, streamInflateChecked, streamInflateJoined, streamInflateRaw } from '../src/trace/inflate-stream.ts';
import { deflatePlanes, endsJoinable } from '../src/trace/plane-deflate.ts';
import type { Trace } from '../src/trace/types.ts';
import { MODELS, photoFeed, ROOT } from './helpers.ts';
import { expectSameTrace, sameBits } from './same-trace.ts';

const FILE = 'edge.exray';

/** streamInflateChecked one entry at a time: without its `joined` runs. */
const gzipEach = Object.assign((d: Uint8Array, limit: number, crc: number) => streamInflateChecked(d, limit, crc), { checksCrc: true as const });

type Decoder = (bytes: Uint8Array) => Promise<Trace>;
const DECODERS: Record<'fflate' | 'zlib' | 'node' | 'stream' | 'gzip' | 'gzipEach', Decoder> = {
  fflate: async (b) => decodeTrace(b, FILE),
  zlib: async (b) => decodeTrace(b, FILE, { inflateRaw: zlibInflateRaw }),
  node: async (b) => decodeTraceNode(b, FILE),
  stream: (b) => decodeTraceAsync(b, FILE, streamInflateRaw),
  // The viewer's trace reader: runs of joinable entries through one stream each.
  gzip: (b) => decodeTraceAsync(b, FILE, streamInflateChecked),
  gzipEach: (b) => decodeTraceAsync(b, FILE, gzipEach),
};
const NATIVE = ['zlib', 'node', 'stream', 'gzip', 'gzipEach'] as const;

/** The problem each decoder reports for `bytes` (null when it reads them). */
async function problems(bytes: Uint8Array): Promise<Record<keyof typeof DECODERS, string | null>> {
  const out: Record<string, string | null> = {};
  for (const [name, decode] of Object.entries(DECODERS)) {
    try {
      await decode(bytes);
      out[name] = null;
    } catch (e) {
      expect(e, name).toBeInstanceOf(TraceFormatError);
      expect((e as TraceFormatError).file).toBe(FILE);
      out[name] = (e as TraceFormatError).problem;
    }
  }
  return out as Record<keyof typeof DECODERS, string | null>;
}

const DV = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Central directory entries: name → offset of the entry's central header. */
function central(bytes: Uint8Array): Map<string, number> {
  const dv = DV(bytes);
  let eocd = bytes.length - 22;
  while (dv.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const out = new Map<string, number>();
  let p = dv.getUint32(eocd + 16, true);
  for (let i = 0; i < dv.getUint16(eocd + 10, true); i++) {
    const n = dv.getUint16(p + 28, true);
    out.set(strFromU8(bytes.subarray(p + 46, p + 46 + n)), p);
    p += 46 + n + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
  return out;
}

function dataStart(bytes: Uint8Array, centralAt: number): number {
  const local = DV(bytes).getUint32(centralAt + 42, true);
  return local + 30 + DV(bytes).getUint16(local + 26, true) + DV(bytes).getUint16(local + 28, true);
}

/** Every header field and every blob (its type and bytes) equal. */
function expectIdentical(got: Trace, want: Trace, label: string): void {
  expect(got.header, label).toStrictEqual(want.header);
  expect([...got.blobs.keys()], label).toEqual([...want.blobs.keys()]);
  for (const [id, w] of want.blobs) expect(sameBits(got.blobs.get(id)!, w), `${label} ${id}`).toBe(true);
}

describe('native inflaters read traces exactly as fflate does', { timeout: 180_000 }, () => {
  let real: Trace;
  let bytes: Uint8Array;
  beforeAll(async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    real = await traceInNode({ model: join(MODELS, name), backend: 'wasm', feed: [await photoFeed(name, 'chelsea.png')], feedFile: 'chelsea.png', capture: 'tensors', runs: 1, warmup: 0 });
    bytes = encodeTrace(real);
  });

  it('a real MobileNetV2 capture (shuffle4, masked4 and xor4 blobs) and the committed fixtures: the same trace, byte for byte', async () => {
    expect(streamInflateAvailable()).toBe(true);
    const codecs = new Set(Object.values(JSON.parse(strFromU8(unzipSync(bytes, { filter: (f) => f.name === 'header.json' })['header.json']!)).blobCodecs as Record<string, string>));
    expect([...codecs].sort()).toEqual(['masked4', 'shuffle4', 'xor4']);
    const want = await DECODERS.fflate(bytes);
    expect(expectSameTrace(want, real)).toBeGreaterThan(60);
    for (const name of NATIVE) expectIdentical(await DECODERS[name](bytes), want, name);
    for (const f of ['v1-stored-raw.exray', 'v2-fflate-planes.exray', 'v2-fflate-float16.exray']) {
      const b = new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', f)));
      const ref = await DECODERS.fflate(b);
      for (const name of NATIVE) expectIdentical(await DECODERS[name](b), ref, `${f} ${name}`);
    }
  });

  it('corrupt, oversized and lying entries: the same TraceFormatError from every inflater', async () => {
    const dir = central(bytes);
    const deflated = [...dir].filter(([n, p]) => n.startsWith('tensors/') && DV(bytes).getUint16(p + 10, true) === 8);
    const [name, at] = deflated[Math.floor(deflated.length / 2)]!;
    const start = dataStart(bytes, at);
    const compressed = DV(bytes).getUint32(at + 20, true);
    const edit = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = bytes.slice();
      f(b);
      return b;
    };
    // An entry whose deflate data is damaged: not deflate, or not these bytes.
    const damaged = edit((b) => {
      for (let i = 0; i < 16; i++) b[start + 1 + i]! ^= 0xa5;
    });
    // Its deflate stream cut short (the data that follows is another entry's local header).
    const cut = edit((b) => DV(b).setUint32(at + 20, compressed >> 1, true));
    const crc = edit((b) => DV(b).setUint32(at + 16, DV(b).getUint32(at + 16, true) ^ 1, true));
    const cases: [string, Uint8Array, RegExp][] = [
      ['damaged data', damaged, new RegExp(`^corrupt (zip|file): entry ${name} `)],
      ['stream cut short', cut, new RegExp(`^corrupt zip: entry ${name} cannot be inflated \\(`)],
      ['CRC-32 of the directory wrong', crc, new RegExp(`^corrupt file: entry ${name} fails its CRC-32 check$`)],
    ];
    for (const [label, b, problem] of cases) {
      const got = await problems(b);
      for (const [decoder, p] of Object.entries(got)) expect(p, `${label}: ${decoder}`).toMatch(problem);
      // The stream path falls back to fflate for an entry it cannot read: fflate's message, word for word.
      expect(got.stream, label).toBe(got.fflate);
      expect(got.gzip, label).toBe(got.fflate);
      expect(got.gzipEach, label).toBe(got.fflate);
      // zlib's own words for bad deflate data differ from fflate's; the rest is the same.
      const bare = (p: string | null): string | undefined => p?.replace(/ \(.*\)$/, '');
      expect(bare(got.zlib), label).toBe(bare(got.fflate));
      // zlib's CRC-32 in place of the JavaScript one changes nothing a reader says.
      expect(got.node, label).toBe(got.zlib);
    }
    // A declared size smaller than the entry inflates to: every blob of the trace's size is checked
    // against header.json first, so make the header (first entry, header.json) lie instead.
    const header = dir.get('header.json')!;
    const small = edit((b) => DV(b).setUint32(header + 24, 100, true));
    const lying = await problems(small);
    expect(lying).toStrictEqual({
      fflate: 'corrupt zip: entry header.json inflates to more than its declared 100 bytes',
      zlib: 'corrupt zip: entry header.json inflates to more than its declared 100 bytes',
      node: 'corrupt zip: entry header.json inflates to more than its declared 100 bytes',
      stream: 'corrupt zip: entry header.json inflates to more than its declared 100 bytes',
      gzip: 'corrupt zip: entry header.json inflates to more than its declared 100 bytes',
      gzipEach: 'corrupt zip: entry header.json inflates to more than its declared 100 bytes',
    });
    // … and larger than it inflates to.
    const big = edit((b) => DV(b).setUint32(header + 24, DV(b).getUint32(header + 24, true) + 8, true));
    const short = await problems(big);
    expect(short.fflate).toMatch(/^corrupt zip: entry header\.json inflates to \d+ bytes, its declared size is \d+$/);
    expect(short.zlib).toBe(short.fflate);
    expect(short.node).toBe(short.fflate);
    expect(short.stream).toBe(short.fflate);
    expect(short.gzip).toBe(short.fflate);
    expect(short.gzipEach).toBe(short.fflate);
  });

  it("Node's writers stamp zlib's CRC-32: the same file, byte for byte, and the same checksum on any slice", () => {
    expect(Buffer.from(encodeTraceNode(real)).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(encodeTraceNode(real, { precision: 'float16' })).equals(Buffer.from(encodeTrace(real, { precision: 'float16' })))).toBe(true);
    const r = bytes.subarray(0, 4096);
    for (let off = 0; off < 8; off++) for (const len of [0, 1, 7, 8, 9, 64, 1000]) expect(zlibCrc32(r.subarray(off, off + len))).toBe(crc32(r.subarray(off, off + len)));
  });

  it('the native inflaters stop at the limit: a bomb costs no more than its declared size', async () => {
    const bomb = deflateSync(new Uint8Array(64 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(100_000);
    expect(() => zlibInflateRaw(bomb, 1000)).toThrow(InflateOverflow);
    await expect(streamInflateRaw(bomb, 1000)).rejects.toThrow(InflateOverflow);
    const exact = new Uint8Array(3000).map((_, i) => (i * 31) & 0xff);
    const d = deflateSync(exact);
    expect(new Uint8Array(zlibInflateRaw(d, 3000))).toEqual(exact);
    expect(await streamInflateRaw(d, 3000)).toEqual(exact);
    expect(() => zlibInflateRaw(d, 2999)).toThrow(InflateOverflow);
    await expect(streamInflateRaw(d, 2999)).rejects.toThrow(InflateOverflow);
    await expect(streamInflateChecked(bomb, 1000, 0)).rejects.toThrow(InflateOverflow);
  });

  it('the gzip way checks the CRC-32 and the size itself: bytes that do not match are rejected', async () => {
    const exact = new Uint8Array(3000).map((_, i) => (i * 31) & 0xff);
    const d = deflateSync(exact);
    expect(await streamInflateChecked(d, 3000, crc32(exact))).toEqual(exact);
    await expect(streamInflateChecked(d, 3000, crc32(exact) ^ 1)).rejects.toThrow();
    // Declared larger than the data inflates to: gzip's size field does not match either.
    await expect(streamInflateChecked(d, 3001, crc32(exact))).rejects.toThrow();
    // The reader never checksums what such an inflater gave: a CRC-32 mismatch can only come from it.
    const wrong = Object.assign(async (data: Uint8Array, limit: number) => streamInflateRaw(data, limit), { checksCrc: true as const });
    const dir = central(bytes);
    const [, at] = [...dir].find(([n, p]) => n.startsWith('tensors/') && DV(bytes).getUint16(p + 10, true) === 8)!;
    const b = bytes.slice();
    DV(b).setUint32(at + 16, DV(b).getUint32(at + 16, true) ^ 1, true);
    await expect(decodeTraceAsync(b, FILE, wrong)).resolves.toBeDefined();
    await expect(decodeTraceAsync(b, FILE, streamInflateChecked)).rejects.toThrow(/fails its CRC-32 check$/);
  });

  it('joined runs: every blob exray deflated goes through a run; each comes out in bytes of its own; a run that does not match is refused whole', async () => {
    const dir = central(bytes);
    const deflated = [...dir].filter(([n, p]) => n.startsWith('tensors/') && DV(bytes).getUint16(p + 10, true) === 8);
    const parts: { data: Uint8Array; size: number; crc: number }[] = deflated.map(([, at]) => {
      const start = dataStart(bytes, at);
      return { data: bytes.subarray(start, start + DV(bytes).getUint32(at + 20, true)), size: DV(bytes).getUint32(at + 24, true), crc: DV(bytes).getUint32(at + 16, true) };
    });
    expect(parts.length).toBeGreaterThan(60);
    for (const p of parts) expect(endsJoinable(p.data)).toBe(true);
    // The reader sends every deflated blob through runs (none one at a time), and reads the trace as fflate does.
    let runs = 0;
    let joined = 0;
    let each = 0;
    const counted = Object.assign((d: Uint8Array, limit: number, crc: number) => (each++, streamInflateChecked(d, limit, crc)), {
      checksCrc: true as const,
      joined: (ps: readonly { data: Uint8Array; size: number; crc: number }[]) => (runs++, (joined += ps.length), streamInflateJoined(ps)),
    });
    expectIdentical(await decodeTraceAsync(bytes, FILE, counted), await DECODERS.fflate(bytes), 'counted');
    expect(joined).toBe(parts.length);
    expect(each).toBe(0);
    expect(runs).toBeGreaterThan(1); // runs are cut at 4 MiB inflated
    // One run: each part's bytes, each in a buffer of its own (the reader keeps or un-shuffles it in place).
    const some = parts.slice(0, 40);
    const got = await streamInflateJoined(some);
    expect(got.length).toBe(some.length);
    for (const [k, p] of some.entries()) {
      expect(crc32(got[k]!), `part ${k}`).toBe(p.crc);
      expect(got[k]!.byteOffset).toBe(0);
      expect(got[k]!.buffer.byteLength).toBe(p.size);
    }
    // Refused: a part that is not joinable (another writer's deflate), one CRC-32 off, one size off, and
    // two sizes off in opposite directions (the sum still right: the combined CRC-32 catches it).
    const plain = deflateSync(new Uint8Array(1000).fill(7));
    await expect(streamInflateJoined([some[0]!, { data: plain, size: 1000, crc: crc32(new Uint8Array(1000).fill(7)) }])).rejects.toThrow();
    const edited = (k: number, change: Partial<(typeof some)[number]>) => some.map((p, i) => (i === k ? { ...p, ...change } : p));
    await expect(streamInflateJoined(edited(7, { crc: (some[7]!.crc ^ 1) >>> 0 }))).rejects.toThrow();
    await expect(streamInflateJoined(edited(7, { size: some[7]!.size + 4 }))).rejects.toThrow();
    await expect(streamInflateJoined(edited(39, { size: some[39]!.size - 4 }))).rejects.toThrow(InflateOverflow);
    const swapped = edited(3, { size: some[3]!.size + 4 }).map((p, i) => (i === 4 ? { ...p, size: p.size - 4 } : p));
    await expect(streamInflateJoined(swapped)).rejects.toThrow();
    // A bomb in a run stops at the run's declared sizes.
    const zeros = deflatePlanes(new Uint8Array(64 * 1024 * 1024));
    expect(endsJoinable(zeros)).toBe(true);
    expect(zeros.length).toBeLessThan(1_000_000);
    await expect(streamInflateJoined([some[0]!, { data: zeros, size: 1000, crc: 0 }])).rejects.toThrow(InflateOverflow);
  });
});
