/**
 * The session options traceOnnx gives each onnxruntime session (src/instrument/ort/session-options.ts),
 * read off a real model's sessions in onnxruntime-node: the timed and profiled sessions lose the memory
 * pattern and the arena exactly when the model's estimated values exceed the memory budget (and the trace says so);
 * capture sessions never have an arena, a pattern or graph optimisation.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { traceOnnx, type OrtModule, type OrtSession, type OrtSessionOptions } from '../src/instrument/ort/index.ts';
import { estimateSizes } from '../src/instrument/ort/capture-plan.ts';
import { valuesBytes } from '../src/instrument/ort/session-options.ts';
import { decodeOnnx, describeOnnx } from '../src/onnx/model.ts';
import { withBodies, describeBodies } from '../src/onnx/subgraphs.ts';
import { fileProfiler } from '../src/reference/ort-node.ts';
import { CLS } from './ort-helpers.ts';

interface Created {
  rewritten: boolean;
  options: OrtSessionOptions;
}

/** onnxruntime-node, recording every session's options and whether its model is the rewritten one. */
function recordingOrt(original: number, created: Created[]): OrtModule {
  const create = async (bytes: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> => {
    created.push({ rewritten: decodeOnnx(bytes, 'in-memory').graph!.output.length > original, options });
    return (await ortNode.InferenceSession.create(bytes, options)) as unknown as OrtSession;
  };
  return { InferenceSession: { create }, Tensor: ortNode.Tensor, env: ortNode.env } as unknown as OrtModule;
}

const x = { name: 'x', shape: [1, 3, 48, 192], dtype: 'float32' as const, data: new Float32Array(3 * 48 * 192).fill(0.25) };
let bytes: Uint8Array;
let outputs: number;
let values: number;

beforeAll(async () => {
  bytes = new Uint8Array(await readFile(join(CLS, 'model.onnx')));
  const model = decodeOnnx(bytes, 'cls');
  const info = describeOnnx(model);
  outputs = info.outputs.length;
  values = valuesBytes(estimateSizes(info, [], [], new Map([['x', x.data.length]]), new Map(), withBodies(info, describeBodies(model.graph!, info))));
});

async function trace(maxMemoryBytes: number, capture: 'timing' | 'stats', sessionOptions: OrtSessionOptions = {}) {
  const created: Created[] = [];
  const t = await traceOnnx(recordingOrt(outputs, created), bytes, [x], {
    runtime: 'onnxruntime-node', executionProvider: 'cpu', profiler: await fileProfiler(), capture, runs: 2, warmup: 0, maxMemoryBytes, sessionOptions,
  });
  return { header: t.header, timing: created.filter((c) => !c.rewritten), capture: created.filter((c) => c.rewritten) };
}

describe('traceOnnx session options (ppocr-mobile-v2-cls on onnxruntime-node)', () => {
  it('keeps the memory pattern of timing sessions while the model values fit the budget', async () => {
    expect(values).toBeGreaterThan(100_000);
    const { header, timing, capture } = await trace(values, 'stats');
    expect(timing).toHaveLength(2); // the plain session, the profiled one
    for (const s of timing) expect([s.options.enableMemPattern, s.options.enableCpuMemArena]).toEqual([undefined, undefined]);
    expect(header.environment.flags?.['enableMemPattern']).toBeUndefined();
    expect(header.warnings.join('\n')).not.toMatch(/memory pattern/);
    expect(capture.length).toBeGreaterThan(0);
    for (const s of capture) expect([s.options.enableCpuMemArena, s.options.enableMemPattern, s.options.graphOptimizationLevel]).toEqual([false, false, 'disabled']);
    expect(header.kernels.length).toBeGreaterThan(20);
  });

  it('turns it off, and says so, once they exceed it', async () => {
    const { header, timing } = await trace(values - 1, 'timing');
    expect(timing).toHaveLength(2);
    for (const s of timing) expect([s.options.enableMemPattern, s.options.enableCpuMemArena, s.options.graphOptimizationLevel]).toEqual([false, false, undefined]);
    expect(header.environment.flags?.['enableMemPattern']).toBe(false);
    expect(header.environment.flags?.['enableCpuMemArena']).toBe(false);
    expect(header.warnings.some((w) => /^the model's values \(.* estimated\) exceed the memory budget of .*: the timed and profiled runs use sessions without onnxruntime's memory pattern \(.*\) or arena/.test(w))).toBe(true);
    expect(header.timing?.runMs).toHaveLength(2);
    expect(header.kernels.length).toBeGreaterThan(20);
  });

  it('keeps a caller-given enableCpuMemArena (the pattern still goes)', async () => {
    const { header, timing } = await trace(values - 1, 'timing', { enableCpuMemArena: true });
    for (const s of timing) expect([s.options.enableMemPattern, s.options.enableCpuMemArena]).toEqual([false, true]);
    expect(header.environment.flags?.['enableCpuMemArena']).toBeUndefined();
    expect(header.warnings.find((w) => /memory pattern/.test(w))).not.toMatch(/arena \(/);
  });

  it('keeps a caller-given enableMemPattern', async () => {
    const { header, timing } = await trace(values - 1, 'timing', { enableMemPattern: true });
    for (const s of timing) expect(s.options.enableMemPattern).toBe(true);
    expect(header.warnings.join('\n')).not.toMatch(/memory pattern/);
  });
});
