/** Shared set-up of the session store tests: real traces streamed as a producer would send them. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { SessionWriter } from '../src/server/store.ts';
import { newSessionId, openedSession } from '../src/server/store.ts';
import type { JournalWriter } from '../src/server/session-writer.ts';
import { computeStats } from '../src/trace/stats.ts';
import { randn } from '../src/trace/test-fixtures.ts';
import { TRACE_FORMAT, TRACE_VERSION, type KernelRecord, type NodeRecord, type Trace, type TraceEvent } from '../src/trace/types.ts';
import { blobFrames, CHUNK_BYTES, decodeBinaryFrame, parseClientText, type SessionInfo } from '../src/transport/wire.ts';

export function tmpDir(prefix = 'exray-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sessionInfo(overrides: Partial<SessionInfo> = {}): SessionInfo {
  const opened = openedSession({
    id: newSessionId(),
    deviceId: 'dev-1',
    device: 'Pixel 7',
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 7) Chrome/124.0',
    model: { name: 'mobilenet-mini', sha256: 'a'.repeat(64), format: 'tfjs-graph' },
    label: 'webgl f16',
    backend: 'webgl',
    capture: 'tensors',
  });
  return { ...opened, ...overrides };
}

/** One journal item as the hub gets it: a JSON event off the wire (parsed like a text frame), or a binary frame. */
export type WireItem = { seq: number; event: Exclude<TraceEvent, { type: 'blob' }> } | { seq: number; frame: Uint8Array };

/**
 * The items a producer sends for these events: seqs from `firstSeq`, every blob as its binary frames
 * (chunked above CHUNK_BYTES), every other event through JSON (NaN statistics arrive as null).
 */
export function wireItems(events: readonly TraceEvent[], firstSeq = 1): WireItem[] {
  let seq = firstSeq - 1;
  const items: WireItem[] = [];
  for (const e of events) {
    if (e.type === 'blob') {
      for (const frame of blobFrames(e.id, e.data, () => ++seq)) items.push({ seq: decodeBinaryFrame(frame).seq, frame });
      continue;
    }
    const msg = parseClientText(JSON.stringify({ t: 'ev', seq: ++seq, event: e }));
    if (msg.t !== 'ev') throw new Error('unreachable');
    items.push({ seq, event: msg.event });
  }
  return items;
}

/** Appends items without awaiting each (the writer must keep their order), then waits for all. */
export async function send(writer: SessionWriter, items: readonly WireItem[]): Promise<void> {
  await Promise.all(items.map((it) => ('frame' in it ? writer.appendFrame(it.seq, it.frame) : writer.appendEvent(it.seq, it.event))));
}

/** What a crash does to a writer: its file is closed, nothing else happens (session.json not rewritten). */
export async function crash(writer: SessionWriter): Promise<void> {
  await (writer as JournalWriter).abandon();
}

/** A trace whose one node output (also the model output) is larger than a wire chunk: 3 frames. */
export function bigTrace(): Trace {
  const n = Math.floor((CHUNK_BYTES / 4) * 2.5);
  const big = randn(n, 7);
  const input = Int32Array.from([1, 2, 3, 4]);
  const out = { shape: [1, n], dtype: 'float32' as const, stats: computeStats(big), blob: { id: 'big-0', encoding: 'float32' as const, length: n } };
  return {
    header: {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      id: '9a0c3f9e-3d1a-4c47-9d1e-7f3f0a1b2c3d',
      createdAt: '2025-03-14T09:26:53.589Z',
      capture: 'tensors',
      model: { name: 'big', format: 'onnx', sha256: '', inputs: [{ name: 'x', shape: [1, 4], dtype: 'int32' }], outputs: [{ name: 'y', shape: [1, n], dtype: 'float32' }], nodeCount: 1 },
      runtime: { name: 'onnxruntime-web', version: '1.30.0', backend: 'wasm' },
      environment: { kind: 'browser', userAgent: 'test', platform: 'Linux', hardwareConcurrency: 4, flags: {} },
      input: { tensors: [{ name: 'x', shape: [1, 4], dtype: 'int32', stats: computeStats(input), blob: { id: 'in-0', encoding: 'int32', length: 4 } }] },
      nodes: [{ index: 0, name: 'expand', op: 'Expand', kernels: [0], outputs: [out], inputs: [] }],
      kernels: [{ index: 0, name: 'Expand', node: 'expand', ms: 1.5, clock: 'ort-profiler', inputShapes: [[1, 4]], outputShapes: [[1, n]] }],
      outputs: [{ name: 'y', ...out }],
      warnings: [],
    },
    blobs: new Map<string, Float32Array | Int32Array>([
      ['in-0', input],
      ['big-0', big],
    ]),
  };
}

/** The trace equals `expected`: header deep-equal (NaN statistics included), every blob byte-identical and of the same type. */
export function expectSameTrace(actual: Trace, expected: Trace): void {
  expect(actual.header).toEqual(expected.header);
  expect([...actual.blobs.keys()].sort()).toEqual([...expected.blobs.keys()].sort());
  for (const [id, data] of expected.blobs) {
    const got = actual.blobs.get(id)!;
    expect(got.constructor, id).toBe(data.constructor);
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), `blob ${id} bytes`).toBe(true);
  }
}

/** sha256 and size of every file under `dir` (relative path → digest), to prove files were not touched. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out[`${rel}${name}`] = `${statSync(p).size}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir, '');
  return out;
}

/** Bytes of a blob in a trace, for totals. */
export function blobBytes(trace: Trace): number {
  let n = 0;
  for (const d of trace.blobs.values()) n += d.byteLength;
  return n;
}

/**
 * A trace of about `totalBytes` of tensor values: a chain of `nodeCount` nodes, each with one float32
 * output (the last one is also the model output), kernels 1:1. Values are cheap to make (a ramp per
 * node), which is all the store's folding, validation and encoding care about.
 */
export function largeTrace(totalBytes: number, nodeCount = 64): Trace {
  const n = Math.max(1, Math.floor(totalBytes / 4 / nodeCount));
  const blobs = new Map<string, Float32Array | Int32Array>();
  const input = Int32Array.from({ length: 16 }, (_, i) => i);
  blobs.set('in-0', input);
  const nodes: NodeRecord[] = [];
  const kernels: KernelRecord[] = [];
  for (let k = 0; k < nodeCount; k++) {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i % 1009) - 504) * 0.01 + k;
    const id = `n${k}-0`;
    blobs.set(id, data);
    const name = `model/block_${k}/Conv2D`;
    nodes.push({ index: k, name, op: 'Conv2D', kernels: [k], inputs: [k === 0 ? 'x' : `model/block_${k - 1}/Conv2D`], outputs: [{ shape: [1, n], dtype: 'float32', stats: computeStats(data), blob: { id, encoding: 'float32', length: n } }] });
    kernels.push({ index: k, name: 'Conv2D', node: name, ms: 0.5, clock: 'wall', inputShapes: [[1, n]], outputShapes: [[1, n]] });
  }
  const last = nodes.at(-1)!.outputs[0]!;
  return {
    header: {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      id: '7d1e3f9e-3d1a-4c47-9d1e-7f3f0a1b2c3d',
      createdAt: '2025-03-14T09:26:53.589Z',
      capture: 'tensors',
      model: { name: 'large', format: 'onnx', sha256: '', inputs: [{ name: 'x', shape: [1, 16], dtype: 'int32' }], outputs: [{ name: 'y', shape: [1, n], dtype: 'float32' }], nodeCount },
      runtime: { name: 'onnxruntime-web', version: '1.30.0', backend: 'wasm' },
      environment: { kind: 'browser', userAgent: 'test', platform: 'Linux', hardwareConcurrency: 4, flags: {} },
      input: { tensors: [{ name: 'x', shape: [1, 16], dtype: 'int32', stats: computeStats(input), blob: { id: 'in-0', encoding: 'int32', length: 16 } }] },
      nodes,
      kernels,
      outputs: [{ name: 'y', ...last }],
      warnings: [],
    },
    blobs,
  };
}
