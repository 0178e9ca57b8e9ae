/**
 * Blob encodings on real captured tensors: the emotion CNN (TF.js graph model, ReLU activations) on
 * the astronaut photo, cpu backend — small enough to trace in a second.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { traceModel } from '../src/instrument/tfjs/index.ts';
import { compareTraces } from '../src/compare/index.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import type { Trace } from '../src/trace/types.ts';
import { loadSample, MODELS, photoFeed, runCli, SAMPLES, toTensor, useBackend } from './helpers.ts';

const FILE = 'emotion.exray';
const bits = (a: Float32Array | Int32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
/** Values whose bits differ (a loop: toEqual on large typed arrays is slow). */
function bitDiffs(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  const x = bits(a);
  const y = bits(b);
  let n = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) n++;
  return n;
}

/** Each entry's stored bytes (still compressed), from the zip's central directory. */
function rawZipEntries(zip: Uint8Array): { name: string; method: number; data: Uint8Array }[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (v.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const out: { name: string; method: number; data: Uint8Array }[] = [];
  for (let p = v.getUint32(eocd + 16, true), k = v.getUint16(eocd + 10, true); k > 0; k--) {
    const method = v.getUint16(p + 10, true);
    const size = v.getUint32(p + 20, true);
    const n = v.getUint16(p + 28, true);
    const name = strFromU8(zip.subarray(p + 46, p + 46 + n));
    const local = v.getUint32(p + 42, true);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    out.push({ name, method, data: zip.subarray(start, start + size) });
    p += 46 + n + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
  return out;
}

describe('trace blobs of a real model (emotion CNN, cpu)', () => {
  let trace: Trace;
  let raw = 0;

  beforeAll(async () => {
    await useBackend('cpu');
    const { model } = await loadSample('emotion');
    const feed = await photoFeed('emotion', 'astronaut.png');
    const x = toTensor(feed);
    trace = await traceModel(model, { [feed.name]: x }, { capture: 'tensors', runs: 1, warmup: 0, modelName: 'emotion' });
    x.dispose();
    for (const b of trace.blobs.values()) raw += b.byteLength;
  });

  it('lossless by default: smaller than the raw values, ReLU outputs stored against their inputs, every blob bit-exact back', () => {
    const bytes = encodeTrace(trace);
    expect(bytes.length).toBeLessThan(0.8 * raw);
    const json = JSON.parse(strFromU8(unzipSync(bytes, { filter: (f) => f.name === 'header.json' })['header.json']!)) as {
      version: number;
      blobCodecs: Record<string, string>;
      blobBases?: Record<string, string>;
    };
    expect(json.version).toBe(2);
    const codecs = Object.values(json.blobCodecs);
    expect(codecs).toContain('masked4');
    expect(Object.keys(json.blobBases ?? {}).length).toBe(codecs.filter((c) => c === 'masked4' || c === 'xor4').length);
    // Every entry is standard deflate: zlib (not only fflate, which exray reads with) inflates it to the same bytes.
    const entries = unzipSync(bytes);
    let deflated = 0;
    for (const { name, method, data } of rawZipEntries(bytes)) {
      if (method !== 8) continue;
      expect(Buffer.from(inflateRawSync(data)).equals(Buffer.from(entries[name]!)), name).toBe(true);
      deflated++;
    }
    expect(deflated).toBeGreaterThan(10);
    const back = decodeTrace(bytes, FILE);
    expect(back.header).toEqual(trace.header);
    for (const [id, data] of trace.blobs) {
      const got = back.blobs.get(id)!;
      expect(got.constructor, id).toBe(data.constructor);
      expect(bitDiffs(got, data), id).toBe(0);
    }
    // Stored without compression, the file is the raw values plus the zip's and header's bytes.
    expect(encodeTrace(trace, { compress: false }).length).toBeGreaterThan(raw);
  });

  it('--precision float16: half the raw size or less, each value within 2^-11, input exact; compare widens to the float16 preset and passes', () => {
    const bytes = encodeTrace(trace, { precision: 'float16' });
    expect(bytes.length).toBeLessThanOrEqual(0.5 * raw);
    const back = decodeTrace(bytes, FILE);
    expect(back.header.storagePrecision).toBe('float16');
    const inputId = trace.header.input.tensors[0]!.blob!.id;
    expect(bitDiffs(back.blobs.get(inputId)!, trace.blobs.get(inputId)!)).toBe(0);
    let worst = 0;
    let worstTiny = 0;
    let changed = 0;
    for (const [id, a] of trace.blobs) {
      const b = back.blobs.get(id)!;
      for (let i = 0; i < a.length; i++) {
        const x = a[i]!;
        if (b[i] !== x) changed++;
        if (Math.abs(x) >= 2 ** -14) worst = Math.max(worst, Math.abs(b[i]! - x) / Math.abs(x));
        else worstTiny = Math.max(worstTiny, Math.abs(b[i]! - x));
      }
    }
    expect(changed).toBeGreaterThan(0);
    expect(worstTiny).toBeLessThanOrEqual(2 ** -25);
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    const c = compareTraces(back, trace, { autoPreset: true });
    expect(c.tolerance.preset).toBe('float16');
    expect(c.tolerance.presetReason).toMatch(/^edge: values stored as float16 \(relative error ≤ 2\^-11 = 4\.9e-4 per value\)$/);
    expect(c.verdict).toBe('ok');
  });
});

describe('exray trace / reference --precision', () => {
  it('writes storagePrecision and narrowed node values; the reference too; compare names the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exray-precision-'));
    try {
      const edge = join(dir, 'edge.exray');
      const ref = join(dir, 'ref.exray');
      const t = await runCli(['trace', join(MODELS, 'emotion'), '--image', join(SAMPLES, 'astronaut.png'), '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--precision', 'bfloat16', '--out', edge]);
      expect(t.err).toBe('');
      expect(t.code).toBe(0);
      const back = decodeTrace(new Uint8Array(readFileSync(edge)), edge);
      expect(back.header.storagePrecision).toBe('bfloat16');
      const r = await runCli(['reference', edge, '--model', join(MODELS, 'emotion'), '--runs', '1', '--warmup', '0', '--precision', 'float16', '--out', ref]);
      expect(r.code).toBe(0);
      expect(decodeTrace(new Uint8Array(readFileSync(ref)), ref).header.storagePrecision).toBe('float16');
      const c = await runCli(['compare', edge, ref]);
      expect(c.out).toMatch(/values stored as bfloat16 \(relative error ≤ 2\^-8 = 3\.9e-3 per value\)/);
      expect(c.out).toMatch(/values stored as float16 \(relative error ≤ 2\^-11 = 4\.9e-4 per value\)/);
      expect((await runCli(['trace', join(MODELS, 'emotion'), '--precision', 'float8', '--out', edge])).err).toMatch(/--precision <type>' argument 'float8' is invalid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
