/**
 * A memory budget for capture (issue #14): `--max-memory` splits an ONNX capture into passes whose
 * stitched trace equals a one-pass capture bit for bit; `--nodes` exposes exactly the matching nodes;
 * a budget too small for one node is a clear error; the trace is streamed to its file and reads back.
 * On the bundled PaddleOCR orientation classifier (221 nodes) and a real photo, through the CLI.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeOnnx, describeOnnx } from '../src/onnx/model.ts';
import { parseByteSize } from '../src/cli/memory.ts';
import { nodeSelection } from '../src/instrument/node-select.ts';
import { decodeTrace, decodeTraceHeader } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { bytesSource } from '../src/trace/zip-directory.ts';
import { TraceStreamWriter } from '../src/trace/file-writer.ts';
import { traceToEvents } from '../src/trace/events.ts';
import type { Trace } from '../src/trace/types.ts';
import { CLS, MODELS, SAMPLES } from './ort-helpers.ts';
import { runCli } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-capture-budget-'));
const PHOTO = join(SAMPLES, 'apple.jpg');
const base = ['--image', PHOTO, '--backend', 'cpu', '--runs', '1', '--warmup', '0'];

async function traceTo(name: string, extra: string[]): Promise<{ trace: Trace; code: number; err: string }> {
  const out = join(tmp, name);
  const r = await runCli(['trace', CLS, ...base, ...extra, '--out', out]);
  if (r.code !== 0) return { trace: undefined as unknown as Trace, code: r.code, err: r.err };
  return { trace: decodeTrace(await readFile(out), out), code: 0, err: r.err };
}

/** Index of the first differing byte (-1: identical; -2: different lengths). A plain loop: expect's deep equality takes minutes on 13 MB. */
function firstDifference(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

let one: Trace;
let multi: Trace;
beforeAll(async () => {
  one = (await traceTo('one.exray', ['--capture', 'tensors'])).trace;
  multi = (await traceTo('multi.exray', ['--capture', 'tensors', '--max-memory', '4MiB'])).trace;
}, 120_000);

describe('--max-memory: a capture in passes', () => {
  it('runs one pass when everything fits, and says so', () => {
    expect(one.header.capturePlan?.passes).toBe(1);
    expect(one.header.capturePlan?.reason).toMatch(/^every selected output fits the budget of .* in one run/);
  });

  it('splits into ≥ 3 passes under a 4 MiB budget and says why in the header', () => {
    const plan = multi.header.capturePlan!;
    expect(plan.passes).toBeGreaterThanOrEqual(3);
    expect(plan.maxMemoryBytes).toBe(4 * 1024 ** 2);
    expect(plan.largestPassBytes).toBeLessThanOrEqual(plan.maxMemoryBytes);
    expect(plan.capturedNodes).toBe(multi.header.nodes.length);
    expect(plan.reason).toContain(`${plan.passes} runs of the same input`);
    // Sizes came from the profiler's shapes (this model has no value_info) or the inputs' sizes.
    expect(Object.keys(plan.sizesFrom).sort()).toEqual(['inputs', 'profiler']);
  });

  it('stitches values equal to the one-pass capture bit for bit, every node present', () => {
    expect(multi.header.nodes.map((n) => n.name)).toEqual(one.header.nodes.map((n) => n.name));
    let compared = 0;
    for (const [i, n] of one.header.nodes.entries()) {
      const m = multi.header.nodes[i]!;
      n.outputs.forEach((o, k) => {
        const a = one.blobs.get(o.blob!.id)!;
        const b = multi.blobs.get(m.outputs[k]!.blob!.id)!;
        expect(b.constructor, `${n.name}:${k}`).toBe(a.constructor);
        expect(firstDifference(a, b), `${n.name}:${k}`).toBe(-1);
        compared++;
      });
    }
    expect(compared).toBe(one.header.nodes.reduce((s, n) => s + n.outputs.length, 0));
    // The passes gave the same final outputs: no warning that they disagree.
    expect(multi.header.warnings.some((w) => w.includes('capture passes gave different final outputs'))).toBe(false);
  });

  it('refuses a budget too small for one node, naming the node and its size', async () => {
    const r = await traceTo('tiny.exray', ['--max-memory', '300KiB']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/model\.onnx: node p2o\.Conv\.0 \(Conv\) needs 432\.0 KiB to capture \(conv2d_53\.tmp_0: 36,864 elements × 4 bytes \(size from profiler\).*over the memory budget of 300\.0 KiB/);
    expect(readdirSync(tmp).filter((f) => f.includes('tiny'))).toEqual([]); // no output, no temp file left
  });
});

describe('--nodes', () => {
  it('exposes exactly the nodes a glob and a /regex/ select', async () => {
    const model = describeOnnx(decodeOnnx(new Uint8Array(await readFile(join(CLS, 'model.onnx'))), 'model.onnx'));
    const expected = model.nodes.map((n) => n.name).filter((n) => /^p2o\.Conv\.\d+$/.test(n) || n === 'p2o.Relu.1');
    const { trace, code } = await traceTo('nodes.exray', ['--capture', 'stats', '--nodes', 'p2o.Conv.*', '--nodes', '/^p2o\\.Relu\\.1$/']);
    expect(code).toBe(0);
    const withValues = trace.header.nodes.filter((n) => n.outputs.some((o) => o.stats)).map((n) => n.name);
    expect(withValues).toEqual(expected);
    expect(trace.header.nodes.length).toBe(model.nodes.length);
    expect(trace.header.capturePlan?.nodes).toBe('p2o.Conv.* /^p2o\\.Relu\\.1$/');
    expect(trace.header.capturePlan?.capturedNodes).toBe(expected.length);
    expect(trace.header.warnings).toContain(`--nodes p2o.Conv.* /^p2o\\.Relu\\.1$/: ${expected.length} of ${model.nodes.length} nodes captured; the others were not exposed and have no values`);
  });

  it('on a TF.js model too: only the matching nodes are read back', async () => {
    const out = join(tmp, 'emotion-nodes.exray');
    const r = await runCli(['trace', join(MODELS, 'emotion'), '--image', join(SAMPLES, 'chelsea.png'), '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--capture', 'stats', '--nodes', '*conv1*', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const t = decodeTrace(await readFile(out), out);
    const withValues = t.header.nodes.filter((n) => n.outputs.some((o) => o.stats)).map((n) => n.name);
    expect(withValues.length).toBeGreaterThan(0);
    expect(withValues).toEqual(t.header.nodes.map((n) => n.name).filter((n) => n.includes('conv1')));
    expect(withValues.length).toBeLessThan(t.header.nodes.length);
  });

  it('matching no node, or an invalid /regex/, is a usage error', async () => {
    const none = await traceTo('none.exray', ['--nodes', 'nothing*']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--nodes nothing\* matches none of the model's 221 nodes/);
    const bad = await traceTo('bad.exray', ['--nodes', '/[/']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--nodes \/\[\/: not a valid regular expression/);
  });

  it('globs match whole names, * crosses scopes, /…/ is an unanchored regex', () => {
    const sel = nodeSelection(['/enc/*/Conv', '/^dec\\d$/i'])!;
    expect(sel.test('/enc/stage1/block/Conv')).toBe(true);
    expect(sel.test('/enc/stage1/Conv_1')).toBe(false);
    expect(sel.test('DEC3')).toBe(true);
    expect(sel.test('dec33')).toBe(false);
    expect(nodeSelection([])).toBeUndefined();
  });
});

describe('the streamed trace file (src/trace/file-writer.ts)', () => {
  function stream(events: ReturnType<typeof traceToEvents>): Uint8Array {
    const chunks: Uint8Array[] = [];
    const w = new TraceStreamWriter((c) => chunks.push(c.slice()), { file: 'streamed.exray' });
    for (const e of events) w.push(e);
    w.finish();
    return new Uint8Array(Buffer.concat(chunks));
  }

  it('reads back header-only and whole, equal to encodeTrace of the same trace', () => {
    const bytes = stream(traceToEvents(one));
    const lazy = decodeTraceHeader(bytesSource(bytes), 'streamed.exray');
    expect(lazy.header.nodes.length).toBe(one.header.nodes.length);
    const a = decodeTrace(bytes, 'streamed.exray');
    const b = decodeTrace(encodeTrace(one), 'encoded.exray');
    expect(a.header).toEqual(b.header);
    expect([...a.blobs.keys()].sort()).toEqual([...b.blobs.keys()].sort());
    for (const [id, d] of a.blobs) expect(firstDifference(d, b.blobs.get(id)!), id).toBe(-1);
  });

  it('refuses a blob no node references, and a run that failed', () => {
    const events = traceToEvents(one);
    const extra = [...events.slice(0, -1), { type: 'blob' as const, id: 'stray', data: new Float32Array([1, 2]) }, events.at(-1)!];
    expect(() => stream(extra)).toThrow(/blob 'stray' is not referenced by the header/);
    const failed = [...events.slice(0, 5), { type: 'run-error' as const, message: 'std::bad_alloc' }];
    expect(() => stream(failed)).toThrow(/std::bad_alloc/);
  });
});

describe('--max-memory sizes', () => {
  it('parses bytes and binary units', () => {
    expect(parseByteSize('1073741824')).toBe(1024 ** 3);
    expect(parseByteSize('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('1.5 GiB')).toBe(1.5 * 1024 ** 3);
    expect(() => parseByteSize('lots')).toThrow(/expected bytes/);
  });
});
