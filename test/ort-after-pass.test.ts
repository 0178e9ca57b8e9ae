/**
 * Between capture passes (a model over --max-memory), Node collects garbage (src/reference/gc-node.ts):
 * a pass's dropped output arrays are freed before the next pass runs, not whenever V8 next collects
 * (ISNet int8 cpu, 30 passes: 1,816 → 1,709 MiB peak RSS). traceOnnx calls `afterPass` once per pass of
 * several, never for a one-pass capture; fullGc really collects.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { fullGc } from '../src/reference/gc-node.ts';
import { CLS } from './ort-helpers.ts';

const x = { name: 'x', shape: [1, 3, 48, 192], dtype: 'float32' as const, data: new Float32Array(3 * 48 * 192).fill(0.25) };

async function passes(maxMemoryBytes: number): Promise<{ passes: number; calls: number }> {
  const bytes = new Uint8Array(await readFile(join(CLS, 'model.onnx')));
  let calls = 0;
  const t = await traceOnnx(ortNode as unknown as OrtModule, bytes, [x], {
    runtime: 'onnxruntime-node', executionProvider: 'cpu', capture: 'stats', runs: 1, warmup: 0, maxMemoryBytes, afterPass: () => calls++,
  });
  return { passes: t.header.capturePlan?.passes ?? 0, calls };
}

describe('after each capture pass (ppocr-mobile-v2-cls on onnxruntime-node)', () => {
  it('is called once per pass when the capture needs several, never for one pass', async () => {
    const several = await passes(2 * 1024 ** 2);
    expect(several.passes).toBeGreaterThanOrEqual(3);
    expect(several.calls).toBe(several.passes);
    expect(await passes(1024 ** 3)).toEqual({ passes: 1, calls: 0 });
  });

  it('fullGc collects what nothing references any more', async () => {
    const gc = fullGc();
    expect(gc).toBeTypeOf('function');
    let big: Float32Array | undefined = new Float32Array(1 << 20);
    const ref = new WeakRef(big);
    big = undefined;
    // A WeakRef target lives to the end of the job that made it: collect on a later turn.
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    expect(ref.deref()).toBeUndefined();
  });
});
