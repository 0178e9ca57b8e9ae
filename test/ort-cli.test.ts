/**
 * `exray trace` / `reference` / `compare` / `inspect` on ONNX models, and what a bad `.onnx` gives:
 * one line naming the file, exit code 2 (a real child process for that), never a stack trace.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Comparison } from '../src/compare/index.ts';
import { encodeOnnx } from '../src/onnx/model.ts';
import { ModelProtoSchema } from '../src/onnx/proto/onnx-ml_pb.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { CLS, firstTextLine, npyBytes, PAGE, REC, ROOT, VAD, VAD_FIXTURES, writeCropPng } from './ort-helpers.ts';
import { runCli } from './helpers.ts';

const run = promisify(execFile);
const BIN = join(ROOT, 'bin', 'exray.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'exray-ort-cli-'));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 90_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const inProcess = runCli;

const line = join(tmp, 'page-line1.png');
const x = join(tmp, 'x.npy');

beforeAll(async () => {
  await writeCropPng(PAGE, await firstTextLine(PAGE), line);
  writeFileSync(x, npyBytes('<f4', [1, 3, 48, 192], new Float32Array(3 * 48 * 192)));
  const cls = readFileSync(join(CLS, 'model.onnx'));
  mkdirSync(join(tmp, 'bad'), { recursive: true });
  writeFileSync(join(tmp, 'bad', 'truncated.onnx'), cls.subarray(0, cls.length - 1000));
  const corrupted = Buffer.from(cls);
  corrupted.fill(0xff, 0, 32);
  writeFileSync(join(tmp, 'bad', 'corrupted.onnx'), corrupted);
  // A model with an op no onnxruntime knows.
  const vi = (name: string): object => ({ name, type: { value: { case: 'tensorType', value: { elemType: 1, shape: { dim: [{ value: { case: 'dimValue', value: 4n } }] } } } } });
  const unknown = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }],
    graph: { name: 'g', node: [{ opType: 'Relu', input: ['x'], output: ['y'], name: 'relu' }, { opType: 'ExrayNoSuchOp', input: ['y'], output: ['z'], name: 'mystery' }], input: [vi('x')], output: [vi('z')] },
  } as never);
  writeFileSync(join(tmp, 'bad', 'unknown-op.onnx'), encodeOnnx(unknown));
  writeFileSync(join(tmp, 'x4.npy'), npyBytes('<f4', [4], new Float32Array(4)));
  copyFileSync(join(VAD_FIXTURES, 'sr.npy'), join(tmp, 'sr.npy'));
});

describe('exray on ONNX models', () => {
  it('trace --image (wasm) → reference (cpu, model found by name and hash) → compare → inspect', async () => {
    const edge = join(tmp, 'rec.exray');
    const ref = join(tmp, 'rec.ref.exray');
    // stats capture keeps the files small (a tensors trace of this model is ~200 MB); the reference is
    // always made with tensors.
    const t = await inProcess(['trace', REC, '--image', line, '--backend', 'wasm', '--capture', 'stats', '--runs', '1', '--warmup', '0', '--out', edge]);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/runtime onnxruntime-web 1\.30\.0 {2}backend wasm {2}capture stats/);
    expect(t.out).toContain(`wrote ${edge}`);
    const r = await inProcess(['reference', edge, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', ref]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/runtime onnxruntime-node 1\.30\.0 {2}backend cpu/);
    const c = await inProcess(['compare', edge, ref, '--json']);
    expect(c.code, c.err).toBe(0);
    const cmp = JSON.parse(c.out) as Comparison;
    expect(cmp.inputs.verdict).toBe('identical');
    expect(cmp.verdict, cmp.summary).toBe('ok');
    const i = await inProcess(['inspect', edge, '--json']);
    const header = JSON.parse(i.out) as { model: { name: string; format: string }; input: { source: { fileName: string } } };
    expect(header.model).toMatchObject({ name: 'ppocr-v4-rec', format: 'onnx' });
    expect(header.input.source.fileName).toBe('page-line1.png');
    expect(decodeTrace(readFileSync(ref), ref).header.referenceFor).toBe(decodeTrace(readFileSync(edge), edge).header.id);
  });

  it('trace a .onnx file with several named --input tensor files', async () => {
    const out = join(tmp, 'vad.exray');
    const fx = (f: string): string => join(VAD_FIXTURES, f);
    const t = await inProcess(['trace', join(VAD, 'model.onnx'), '--input', `input=${fx('speech_input.npy')}`, `state=${fx('speech_state.npy')}`, `sr=${fx('sr.npy')}`, '--backend', 'cpu', '--capture', 'stats', '--runs', '1', '--out', out]);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/input {3}sr \[\] int64/);
    expect(t.out).toMatch(/warning \d+ control-flow kernel\(s\) \(If \/ Loop \/ Scan\) are recorded with their own time/);
    const h = decodeTrace(readFileSync(out), out).header;
    expect(h.model.name).toBe('silero-vad-v5');
    // The nodes inside the If's branches are recorded too, the taken branch's with statistics.
    expect(h.nodes).toHaveLength(348);
    expect(h.nodes.filter((n) => n.name.startsWith('If_0/then/') && n.outputs.some((o) => o.stats)).length).toBeGreaterThan(50);
  });

  it('--browser on a backend onnxruntime-web cannot run ONNX on says why', async () => {
    const r = await inProcess(['trace', REC, '--image', line, '--browser', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ppocr-v4-rec: --backend cpu: ONNX: onnxruntime-web has no cpu execution provider/);
  });

  it('--image on a model with three inputs asks for --input', async () => {
    const r = await inProcess(['trace', VAD, '--image', line, '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^exray: .*silero-vad-v5\/exray\.json: the card declares no image input/);
  });
});

describe('a bad .onnx: one line naming the file, exit code 2', () => {
  const cases: [string, string, RegExp][] = [
    ['truncated', 'truncated.onnx', /truncated\.onnx: is not a valid ONNX model: the protobuf does not parse \(.+\); the file is corrupted or truncated$/],
    ['corrupted', 'corrupted.onnx', /corrupted\.onnx: is not (a valid ONNX model|an ONNX model)/],
    ['an op onnxruntime does not know', 'unknown-op.onnx', /unknown-op\.onnx: onnxruntime-(node|web) cannot load this model: .*No Op registered for ExrayNoSuchOp/],
  ];
  for (const [what, file, message] of cases) {
    it(`${what} (in process, cpu and wasm)`, async () => {
      const input = file === 'unknown-op.onnx' ? `x=${join(tmp, 'x4.npy')}` : `x=${x}`;
      for (const backend of ['cpu', 'wasm']) {
        const r = await inProcess(['trace', join(tmp, 'bad', file), '--input', input, '--backend', backend, '--runs', '1', '--warmup', '0', '--out', join(tmp, 'never.exray')]);
        expect(r.code, r.err).toBe(2);
        const lines = r.err.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^exray: /);
        expect(lines[0]).toMatch(message);
      }
    });
  }

  it('the same from the real command line: exit code 2, no stack trace', async () => {
    const r = await cli(['trace', join(tmp, 'bad', 'unknown-op.onnx'), '--input', `x=${join(tmp, 'x4.npy')}`, '--backend', 'cpu', '--out', join(tmp, 'never.exray')]);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('exray:') || /^\s+at /.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/unknown-op\.onnx: onnxruntime-node cannot load this model: .*ExrayNoSuchOp/);
  });
});
