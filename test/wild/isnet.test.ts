/**
 * ISNet (1024×1024 background segmentation, ~1,100 nodes) int8 (DynamicQuantizeLinear / ConvInteger)
 * and fp16 from `@imgly/background-removal-data@1.4.5`, installed on demand (test/wild/isnet-package.ts;
 * 136 MB, never by `npm ci`). Every node's values are read (`--capture stats`) under `--max-memory`, so
 * the capture runs in several passes over node subsets, on wasm (onnxruntime-web in Node) and on the cpu
 * reference (onnxruntime-node); the comparison is ok and the mask agrees. Wall time and peak RSS of each
 * command are printed (docs/limits.md quotes them).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTraceHeaderOnly } from '../../src/cli/io.ts';
import { compare, exray, printRuns, wildTmp } from './helpers.ts';
import { inputNpy, isnetModels } from './isnet-package.ts';

const BUDGET = process.env.EXRAY_WILD_MAX_MEMORY ?? '768MiB';
const tmp = wildTmp('isnet');
const card = join(tmp, 'isnet.exray.json');
let models: { int8: string; fp16: string };
let input: string;

beforeAll(async () => {
  models = isnetModels();
  input = await inputNpy(tmp);
  writeFileSync(
    card,
    JSON.stringify({
      cardVersion: 1,
      name: 'isnet',
      description: 'ISNet background removal from @imgly/background-removal-data@1.4.5: the foreground probability at 1024².',
      source: { package: '@imgly/background-removal-data', version: '1.4.5', path: 'dist/resources.json /models/small, /models/medium', license: 'AGPL-3.0' },
      format: 'onnx',
      modelFile: 'isnet.onnx',
      execution: 'async',
      inputs: [{ name: 'input', shape: [1, 3, 1024, 1024], dtype: 'float32', kind: 'tensor', notes: 'RGB stretched to 1024², (x − 128) / 256, NCHW' }],
      outputs: [{ name: 'output', shape: [1, 1, 1024, 1024], dtype: 'float32', meaning: 'mask', activation: 'sigmoid' }],
    }),
  );
});

afterAll(() => printRuns(`ISNet, --capture stats --max-memory ${BUDGET}`));

/** Nodes of each model (main graph; neither has subgraphs). */
const NODES = { int8: 1084, fp16: 578 } as const;

const capture = ['--capture', 'stats', '--max-memory', BUDGET, '--runs', '1', '--warmup', '0'];

describe.each(['int8', 'fp16'] as const)('ISNet %s: every node on wasm and the cpu reference', (variant) => {
  it('traces in passes under the budget, compares ok, the mask agrees', async () => {
    const model = models[variant];
    const edge = join(tmp, `${variant}-wasm.exray`);
    const ref = join(tmp, `${variant}-cpu.exray`);
    await exray(`isnet ${variant}: trace wasm`, ['trace', model, '--input', input, '--backend', 'wasm', ...capture, '--out', edge], { rssCapMB: 8000 });
    await exray(`isnet ${variant}: reference cpu`, ['reference', edge, '--model', model, '--backend', 'cpu', ...capture, '--out', ref], { rssCapMB: 8000 });
    for (const file of [edge, ref]) {
      const h = readTraceHeaderOnly(file).header;
      expect(h.capturePlan?.passes, file).toBeGreaterThan(1);
      expect(h.capturePlan?.capturedNodes, file).toBe(h.model.nodeCount);
      expect(h.nodes.filter((n) => n.outputs.some((o) => o.stats)).length, file).toBeGreaterThan(0.9 * h.model.nodeCount);
    }
    // The variants are not the same graph: int8 quantises each Conv (DynamicQuantizeLinear, ConvInteger…).
    const nodes = readTraceHeaderOnly(edge).header.model.nodeCount;
    expect(nodes).toBe(NODES[variant]);
    const c = await compare(`isnet ${variant}: compare`, edge, ref, ['--card', card]);
    expect(c.sameModel).toBe(true);
    expect(c.basis.nodes).toBe('stats');
    expect(c.counts.total).toBeGreaterThanOrEqual(nodes);
    expect(c.counts.diverged + c.counts['shape-mismatch'] + c.counts.missing).toBe(0);
    expect(c.verdict, c.summary).toBe('ok');
    const mask = c.outputs.tensors.find((o) => o.name === 'output')!;
    expect([mask.kind.kind, mask.kind.source]).toEqual(['mask', 'given']);
    if (mask.measure?.kind !== 'mask') throw new Error(`output measured as ${mask.measure?.kind}`);
    expect(mask.measure.iou).toBeGreaterThan(0.99);
  });
});
