/**
 * Kernels onnxruntime renames on a float16 model: the CPU EP has no float16 Conv, so it inserts Casts
 * around it and runs it in float32, and the kernel comes out named `InsertedPrecisionFreeCast_<value>`
 * (`…_nchwc` after the NCHWc layout transform). The model: ppocr-mobile-v2-cls converted to float16
 * with float32 I/O (test/fixtures/fp16-model.ts), on the first text line of page.png.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareInput } from '../src/cli/commands/trace.ts';
import { attributeKernels, parseOrtProfile } from '../src/instrument/ort/index.ts';
import { decodeOnnx, describeOnnx } from '../src/onnx/model.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { compareTraces } from '../src/compare/index.ts';
import { diagnose } from '../src/diagnose/diagnose.ts';
import { float16Bytes } from './fixtures/fp16-model.ts';
import { CLS, PAGE } from './ort-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'exray-fp16-'));
const MODEL = join(dir, 'cls-fp16.onnx');

describe('float16 model on the CPU EP: renamed kernels map back to their model nodes', () => {
  let prepared: Awaited<ReturnType<typeof prepareInput>>;
  beforeAll(async () => {
    writeFileSync(MODEL, float16Bytes(readFileSync(join(CLS, 'model.onnx')), 'model.onnx'));
    prepared = await prepareInput(CLS, { image: PAGE });
  });

  it('onnxruntime-node names the float32-run Convs InsertedPrecisionFreeCast_…; each maps to its Conv node', async () => {
    const bytes = readFileSync(MODEL);
    const profileDir = await mkdtemp(join(tmpdir(), 'exray-fp16-profile-'));
    const session = await ort.InferenceSession.create(bytes, { enableProfiling: true, profileFilePrefix: join(profileDir, 'p') });
    const x = prepared.feed[0]!;
    await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.data), x.shape) });
    session.endProfiling();
    await session.release();
    const raw = parseOrtProfile(await readFile(join(profileDir, (await readdir(profileDir))[0]!), 'utf8'));
    const info = describeOnnx(decodeOnnx(bytes, MODEL));
    const owners = attributeKernels(raw, info.nodes);
    const renamed = raw.map((k, i) => ({ k, owner: owners[i] })).filter(({ k }) => k.op === 'Conv' && k.ortName.startsWith('InsertedPrecisionFreeCast_'));
    expect(renamed.length).toBeGreaterThan(20);
    const opOf = new Map(info.nodes.map((n) => [n.name, n.op]));
    for (const { k, owner } of renamed) expect(owner && opOf.get(owner), k.ortName).toBe('Conv');
    // Distinct Convs, not all on one.
    expect(new Set(renamed.map((r) => r.owner)).size).toBe(renamed.length);
  });

  it('a cpu trace times every Conv', async () => {
    const t = await traceInNode({ model: MODEL, backend: 'cpu', ...prepared, capture: 'timing', runs: 1, warmup: 0 });
    const h = t.header;
    const convs = h.nodes.filter((n) => n.op === 'Conv');
    expect(convs).toHaveLength(53);
    for (const n of convs) {
      expect(n.kernels.length, n.name).toBeGreaterThan(0);
      expect(n.kernels.every((i) => h.kernels[i]!.ms! >= 0 && h.kernels[i]!.node === n.name)).toBe(true);
    }
    // Left unmapped: only the Casts of weights (Constant nodes are not recorded) and layout reorders / reshapes.
    const unmapped = new Set(h.kernels.filter((k) => k.node === null).map((k) => k.name));
    for (const op of unmapped) expect(['Cast', 'ReorderInput', 'ReorderOutput', 'Reshape']).toContain(op);
  }, 60_000);

  it('diagnose names the reduced precision when the comparison is ok, and says the same model on both sides does not measure its cost', async () => {
    const run = () => traceInNode({ model: MODEL, backend: 'cpu', ...prepared, capture: 'stats', runs: 1, warmup: 0 });
    const [edge, ref] = [await run(), await run()];
    const c = compareTraces(edge, ref);
    expect(c.verdict, c.summary).toBe('ok');
    const d = diagnose({ edge, ref, comparison: c });
    expect(d.causes.map((x) => x.code)).toEqual(['none']);
    const info = (d.info ?? []).find((x) => x.code === 'quantization');
    const half = edge.header.nodes.filter((n) => n.outputs.some((o) => o.dtype === 'float16')).length;
    expect(half).toBeGreaterThan(100);
    expect(info?.detail).toContain(`computes ${half} of ${edge.header.nodes.length} nodes in float16`);
    expect(info?.detail).toMatch(/the reference ran the same model, so this does not measure/);
    expect(d.summary).toMatch(/Reduced precision named: the model computes \d+ of \d+ nodes in float16/);
    // The float original has nothing at reduced precision: no such finding.
    const f32 = await traceInNode({ model: join(CLS, 'model.onnx'), backend: 'cpu', ...prepared, capture: 'stats', runs: 1, warmup: 0 });
    expect((diagnose({ edge: f32, ref: f32, comparison: compareTraces(f32, f32) }).info ?? []).filter((x) => x.code === 'quantization')).toEqual([]);
  }, 120_000);
});
