/**
 * Trace size (issue 16 item 4): bytes of one `.exray` trace against its raw float32 tensors (the
 * anchor: what version-1 files stored), for every blob encoding, with write and read speed next to
 * stored, and the largest error of float16 / bfloat16 storage measured on the real values. Speeds are
 * wall clock (the figure) and CPU time of this thread (stabler on a loaded machine: a busy neighbour
 * stretches wall time, not CPU time). The deflate encoder itself is measured against fflate level 1
 * (the encoder before plane-deflate.ts) on the same byte planes of every blob.
 * Reads are timed with fflate's inflater (decodeTrace's default, the figure) and, side by side in the
 * same rounds, with Node's zlib inflater, then with its inflater and CRC-32 (decodeTraceNode: what the
 * CLI and the server read with, src/io/zlib-native.ts); writes also with zlib's CRC-32 (encodeTraceNode,
 * what they write with); the viewer
 * bench's 1,000-node synthetic trace adds the page's way (decodeTraceAsync + DecompressionStream).
 * Models: MobileNetV2 layers + graph models (TF.js, wasm), PaddleOCR recogniser (onnxruntime-node).
 * `EXRAY_BENCH_ONLY=tracesize npm run bench` runs only this.
 */
import { join } from 'node:path';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { cropPlanes } from '../src/preprocess/geometry.ts';
import { loadModelCard } from '../src/models/card.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';
import type { FeedTensor } from '../src/reference/feed.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { deflateSync } from 'fflate';
import { shuffle32 } from '../src/trace/byte-planes.ts';
import { decodeTrace, decodeTraceAsync } from '../src/trace/file.ts';
import { encodeTrace, type EncodeOptions } from '../src/trace/file-writer.ts';
import { streamInflateChecked, streamInflateRaw } from '../src/trace/inflate-stream.ts';
import { decodeTraceNode, encodeTraceNode, zlibInflateRaw } from '../src/io/zlib-native.ts';
import { makeChainPair } from '../src/compare/synthetic.ts';
import { deflatePlanes } from '../src/trace/plane-deflate.ts';
import type { CaptureMode, Trace } from '../src/trace/types.ts';
import type { BenchResult } from './types.ts';

const MB = 1e6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function imageFeed(model: string, photo: string, crop?: { x: number; y: number; width: number; height: number }): Promise<FeedTensor> {
  const card = await loadModelCard(join('models', model, 'exray.json'));
  const input = card.inputs[0]!;
  const { image, source } = await decodeImageFile(join('public', 'samples', photo));
  let rgba: RgbaImage = image;
  if (crop) {
    const c = cropPlanes({ width: image.width, height: image.height, channels: 4, layout: 'interleaved', data: image.data }, crop);
    rgba = { width: c.width, height: c.height, data: c.data } as RgbaImage;
  }
  const t = preprocess(rgba, crop ? 1 : source.exifOrientation, input.preprocess!);
  return { name: input.name, shape: t.shape, dtype: t.dtype, data: t.data };
}

async function traceOf(model: string, backend: 'wasm' | 'cpu', feed: FeedTensor, capture: CaptureMode): Promise<Trace> {
  const t = await traceInNode({ model: join('models', model), backend, feed: [feed], feedFile: 'bench', capture, runs: 1, warmup: 0 });
  if (!t) throw new Error(`${model}: no trace`);
  return t;
}

/** Largest |stored − original| / |original| over the float values of normal magnitude (float16: ≥ 2^-14). */
function maxRelativeError(orig: Trace, stored: Trace): number {
  let worst = 0;
  for (const [id, a] of orig.blobs) {
    const b = stored.blobs.get(id)!;
    if (!(a instanceof Float32Array)) continue;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (!Number.isFinite(x) || Math.abs(x) < 2 ** -14) continue;
      const e = Math.abs(b[i]! - x) / Math.abs(x);
      if (e > worst) worst = e;
    }
  }
  return worst;
}

function rawBytes(t: Trace): number {
  let n = 0;
  for (const b of t.blobs.values()) n += b.byteLength;
  return n;
}

async function sizes(label: string, trace: Trace, rounds: number): Promise<BenchResult[]> {
  const raw = rawBytes(trace);
  const out: BenchResult[] = [{ name: `trace size ${label}: raw float32 tensors (anchor, what version 1 stored)`, value: raw / MB, unit: 'MB' }];
  const variants: [string, EncodeOptions][] = [
    ['stored (version 1 layout)', { compress: false }],
    ['lossless (deflated byte planes)', {}],
    ['--precision float16', { precision: 'float16' }],
    ['--precision bfloat16', { precision: 'bfloat16' }],
  ];
  for (const [name, opts] of variants) {
    let bytes = new Uint8Array(0);
    const w: number[] = [];
    const r: number[] = [];
    const wc: number[] = [];
    const rc: number[] = [];
    const rz: number[] = [];
    const rzc: number[] = [];
    const wn: number[] = [];
    const rn: number[] = [];
    let back: Trace | undefined;
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      bytes = encodeTrace(trace, opts);
      wc.push(process.cpuUsage(c0).user / 1000);
      w.push(performance.now() - t0);
      const t1 = performance.now();
      const c1 = process.cpuUsage();
      back = decodeTrace(bytes, 'bench.exray');
      rc.push(process.cpuUsage(c1).user / 1000);
      r.push(performance.now() - t1);
      const t2 = performance.now();
      const c2 = process.cpuUsage();
      decodeTrace(bytes, 'bench.exray', { inflateRaw: zlibInflateRaw });
      rzc.push(process.cpuUsage(c2).user / 1000);
      rz.push(performance.now() - t2);
      const t3 = performance.now();
      const nodeBytes = encodeTraceNode(trace, opts);
      wn.push(performance.now() - t3);
      const t4 = performance.now();
      decodeTraceNode(nodeBytes, 'bench.exray');
      rn.push(performance.now() - t4);
    }
    out.push({ name: `trace size ${label}: ${name}, file / raw`, value: bytes.length / raw, unit: '×' });
    out.push({ name: `trace size ${label}: ${name}, file`, value: bytes.length / MB, unit: 'MB' });
    out.push({ name: `trace size ${label}: ${name}, write`, value: raw / MB / (median(w) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, read (decodeTrace)`, value: raw / MB / (median(r) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, write, CPU time`, value: raw / MB / (median(wc) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, read, CPU time`, value: raw / MB / (median(rc) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, read (decodeTrace, Node's zlib inflater)`, value: raw / MB / (median(rz) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, read, Node's zlib inflater, CPU time`, value: raw / MB / (median(rzc) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, write (encodeTraceNode, zlib's CRC-32)`, value: raw / MB / (median(wn) / 1000), unit: 'MB/s' });
    out.push({ name: `trace size ${label}: ${name}, read (decodeTraceNode, zlib's inflater and CRC-32)`, value: raw / MB / (median(rn) / 1000), unit: 'MB/s' });
    if (opts.precision) out.push({ name: `trace size ${label}: ${name}, max relative error measured`, value: maxRelativeError(trace, back!), unit: '' });
  }
  return out;
}

/**
 * The deflate encoder alone on the byte planes (shuffle4) of every blob: plane-deflate.ts against
 * fflate's deflateSync level 1 (what encodeBlob used before), output / input and MB/s of input.
 */
function encoders(label: string, trace: Trace, rounds: number): BenchResult[] {
  const planes: { p: Uint8Array; cuts: number[] }[] = [];
  let input = 0;
  for (const b of trace.blobs.values()) {
    const n = b.length;
    planes.push({ p: shuffle32(new Uint32Array(b.buffer, b.byteOffset, n)), cuts: [n, 2 * n, 3 * n] });
    input += 4 * n;
  }
  const out: BenchResult[] = [];
  const run = (name: string, f: (p: Uint8Array, cuts: number[]) => Uint8Array): void => {
    const ms: number[] = [];
    let bytes = 0;
    for (let i = 0; i < rounds; i++) {
      bytes = 0;
      const t0 = performance.now();
      for (const { p, cuts } of planes) bytes += f(p, cuts).length;
      ms.push(performance.now() - t0);
    }
    out.push({ name: `trace size ${label}: byte planes deflated by ${name}, output / input`, value: bytes / input, unit: '×' });
    out.push({ name: `trace size ${label}: byte planes deflated by ${name}, speed`, value: input / MB / (median(ms) / 1000), unit: 'MB/s' });
  };
  run('fflate level 1 (before)', (p) => deflateSync(p, { level: 1 }));
  run('plane-deflate', (p, cuts) => deflatePlanes(p, cuts));
  return out;
}

/**
 * The viewer bench's trace (1,000 nodes of 4,096 values, lossless): read by fflate, by Node's zlib and
 * by decodeTraceAsync with DecompressionStream (the page's trace reader's way, here in Node), in turn
 * within each round. Wall clock, MB/s of values.
 */
export async function readers(rounds: number): Promise<BenchResult[]> {
  const { edge } = makeChainPair({ nodes: 1000, elements: 4096, noise: 1e-7, injectAt: 600 });
  const bytes = encodeTrace(edge);
  const raw = rawBytes(edge);
  const ways: [string, () => Promise<unknown>][] = [
    ['fflate (decodeTrace)', async () => decodeTrace(bytes, 'bench.exray')],
    ["Node's zlib (decodeTrace, inflateRaw)", async () => decodeTrace(bytes, 'bench.exray', { inflateRaw: zlibInflateRaw })],
    ["Node's zlib inflater and CRC-32 (decodeTraceNode)", async () => decodeTraceNode(bytes, 'bench.exray')],
    ['DecompressionStream (decodeTraceAsync)', () => decodeTraceAsync(bytes, 'bench.exray', streamInflateRaw)],
    ['DecompressionStream as gzip, CRC-32 checked natively (decodeTraceAsync, the trace reader\'s way)', () => decodeTraceAsync(bytes, 'bench.exray', streamInflateChecked)],
  ];
  const ms = ways.map(() => [] as number[]);
  for (let i = 0; i < Math.max(5, rounds); i++) {
    for (const [k, [, read]] of ways.entries()) {
      const t0 = performance.now();
      await read();
      ms[k]!.push(performance.now() - t0);
    }
  }
  const label = 'trace size 1000-node synthetic chain (viewer bench)';
  return [
    { name: `${label}: lossless file`, value: bytes.length / MB, unit: 'MB' },
    ...ways.map(([name], k) => ({ name: `${label}: read, ${name}`, value: raw / MB / (median(ms[k]!) / 1000), unit: 'MB/s' })),
  ];
}

/** A stats-only trace: its bytes, and what they are (header.json, the input and output blobs). */
function statsSizes(label: string, trace: Trace): BenchResult[] {
  const bytes = encodeTrace(trace);
  const header = new TextEncoder().encode(JSON.stringify(trace.header)).length;
  const input = new Set(trace.header.input.tensors.map((t) => t.blob!.id));
  let inputBytes = 0;
  let otherBytes = 0;
  for (const [id, b] of trace.blobs) {
    if (input.has(id)) inputBytes += b.byteLength;
    else otherBytes += b.byteLength;
  }
  return [
    { name: `trace size ${label} --capture stats: file, stored (version 1 layout)`, value: encodeTrace(trace, { compress: false }).length / MB, unit: 'MB' },
    { name: `trace size ${label} --capture stats: file`, value: bytes.length / MB, unit: 'MB' },
    { name: `trace size ${label} --capture stats: header.json uncompressed`, value: header / MB, unit: 'MB' },
    { name: `trace size ${label} --capture stats: input blobs raw`, value: inputBytes / MB, unit: 'MB' },
    { name: `trace size ${label} --capture stats: output blobs raw`, value: otherBytes / MB, unit: 'MB' },
  ];
}

export async function benchTraceSize(rounds = 3): Promise<BenchResult[]> {
  const out: BenchResult[] = await readers(rounds);
  const models: { label: string; model: string; backend: 'wasm' | 'cpu'; feed: () => Promise<FeedTensor> }[] = [
    { label: 'MobileNetV2 layers model', model: 'nsfw-mobilenet-v2', backend: 'wasm', feed: () => imageFeed('nsfw-mobilenet-v2', 'chelsea.png') },
    { label: 'MobileNetV2 graph model', model: 'nsfw-mobilenet-v2-mid', backend: 'wasm', feed: () => imageFeed('nsfw-mobilenet-v2-mid', 'chelsea.png') },
    // The first text line of page.png (as bench/ort.ts and test/ort-helpers.ts crop it).
    { label: 'PaddleOCR rec (ONNX)', model: 'ppocr-v4-rec', backend: 'cpu', feed: () => imageFeed('ppocr-v4-rec', 'page.png', { x: 3, y: 9, width: 292, height: 29 }) },
  ];
  for (const m of models) {
    const feed = await m.feed();
    const tensors = await traceOf(m.model, m.backend, feed, 'tensors');
    out.push(...(await sizes(m.label, tensors, rounds)));
    out.push(...encoders(m.label, tensors, rounds));
    out.push(...statsSizes(m.label, await traceOf(m.model, m.backend, feed, 'stats')));
  }
  return out;
}

// Run on its own: `npx tsx bench/trace-size.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchTraceSize()) process.stdout.write(`${r.name}: ${r.value.toPrecision(4)} ${r.unit}\n`);
}
