/**
 * Node-level causes on real models: a perturbed weight (kernel: the own-error split must put it on that
 * node, not downstream), re-quantized weights from `exray variants` (quantization), and a real half-float
 * WebGL trace from headless Chromium (float16).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { traceModel } from '../src/instrument/tfjs/index.ts';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { modelHash } from '../src/models/hash.ts';
import { writeVariant } from '../src/models/variants.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import type { Trace } from '../src/trace/types.ts';
import { main } from '../src/cli/main.ts';
import { readTrace } from '../src/cli/io.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { card, MODELS, SAMPLES, loadSample, photoFeed, tf, toTensor, useBackend } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-diagnose-'));

/** An edge trace of `name` on wasm with one weight scaled by 1.02 (a mis-loaded weight / wrong kernel); same model hash. */
async function perturbedTrace(name: string, photo: string): Promise<{ edge: Trace; target: string }> {
  await useBackend('wasm');
  const { model } = await loadSample(name);
  const feed = await photoFeed(name, photo);
  const x = toTensor(feed);
  let target: string;
  try {
    if ('executor' in model) {
      const ex = (model as unknown as { executor: { graph: { nodes: Record<string, { name: string; op: string; inputNames: string[] }> }; weightMap: Record<string, tf.Tensor[]> } }).executor;
      const convs = Object.values(ex.graph.nodes).filter((n) => n.op === '_FusedConv2D');
      const t = convs[Math.floor(convs.length / 2)]!;
      target = t.name;
      const w = t.inputNames[1]!;
      ex.weightMap[w] = [tf.tidy(() => ex.weightMap[w]![0]!.mul(1.02))];
    } else {
      const layers = (model as unknown as { layers: { name: string; getClassName(): string; getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }[] }).layers.filter((l) => l.getClassName() === 'Conv2D');
      const l = layers[Math.floor(layers.length / 2)]!;
      target = l.name;
      l.setWeights(l.getWeights().map((w, i) => (i === 0 ? tf.tidy(() => w.mul(1.02)) : w)));
    }
    const edge = await traceModel(model, 'executor' in model ? { [feed.name]: x } : x, {
      capture: 'tensors',
      runs: 1,
      warmup: 0,
      modelName: name,
      modelSha256: await modelHash(join(MODELS, name)),
      inputNames: [feed.name],
      source: (await decodeImageFile(join(SAMPLES, photo))).source,
    });
    return { edge, target };
  } finally {
    x.dispose();
    model.dispose();
  }
}

describe('kernel: own vs inherited error on real models', () => {
  for (const [name, photo, backend] of [
    ['nsfw-mobilenet-v2-mid', 'chelsea.png', 'wasm'],
    ['nsfw-mobilenet-v2', 'flower.jpg', 'cpu'],
  ] as const) {
    it(`${name}: a perturbed convolution is the kernel cause, downstream nodes only inherit (reference ${backend})`, async () => {
      const { edge, target } = await perturbedTrace(name, photo);
      const { diagnosis: d } = await runDiagnosis({ edge, image: join(SAMPLES, photo), backend });
      expect(d.causes.map((c) => c.code), d.summary).toEqual(['kernel']);
      const k = d.causes[0]!;
      expect(k.node).toBe(target);
      expect(k.detail).toContain(`${target} (`);
      expect(k.detail).toMatch(/is wrong on its own inputs: replayed alone on (cpu|wasm) with the edge's recorded inputs/);
      expect(d.firstDivergentNode).toBe(target);
      expect(d.inputMatches).toBe(true);
      const own = d.nodes.find((n) => n.node === target)!;
      expect(own.own!).toBeGreaterThan(1e-3);
      expect(own.ownShare!).toBeGreaterThan(0.99);
      // Everything replayed downstream of it has a larger total than own error: inherited.
      const pos = edge.header.nodes.findIndex((n) => n.name === target);
      const after = d.nodes.filter((n) => n.own !== null && edge.header.nodes.findIndex((m) => m.name === n.node) > pos);
      expect(after.length).toBeGreaterThan(3);
      for (const n of after) expect(n.own!, n.node).toBeLessThan(1e-4);
    });
  }
});

describe('quantization: variants of a float model against the float original', () => {
  async function variantRun(model: string, dtype: 'uint8' | 'float16', photo: string): Promise<Awaited<ReturnType<typeof runDiagnosis>>> {
    const dir = join(tmp, `${model}-${dtype}`);
    await writeVariant(join(MODELS, model), dtype, dir);
    const decoded = await decodeImageFile(join(SAMPLES, photo));
    const input = (await card(model)).inputs[0]!;
    const t = preprocess(decoded.image, decoded.source.exifOrientation, input.preprocess!);
    const edge = await traceInNode({ model: dir, backend: 'wasm', feed: [{ name: input.name, shape: t.shape, dtype: 'float32', data: t.data }], feedFile: photo, runs: 1, warmup: 0, source: decoded.source, preprocess: input.preprocess!, modelName: model });
    return runDiagnosis({ edge, image: decoded, model: join(MODELS, model), edgeModel: dir, backend: 'wasm' });
  }

  it('uint8 weights (blazeface): quantization, the layers that lose most named, no kernel false alarm', async () => {
    const { diagnosis: d } = await variantRun('blazeface', 'uint8', 'astronaut.png');
    expect(d.causes.map((c) => c.code), d.summary).toEqual(['quantization']);
    expect(d.causes[0]!.detail).toMatch(/^the edge model's weights differ from the reference \(the edge model stores 106 of 112 weights as uint8\): \d+ of \d+ replayed computing layers lose precision on their own inputs; most: .+rmse\/scale/);
    expect(d.causes[0]!.node).toBe((d.causes[0]!.evidence!['worst'] as string[])[0]);
    expect(d.inputMatches).toBe(true);
  });

  it('uint8 costs more than float16 (emotion): quantization for uint8, no cause beyond tolerance for float16', async () => {
    const u8 = (await variantRun('emotion', 'uint8', 'chelsea.png')).diagnosis;
    const f16 = (await variantRun('emotion', 'float16', 'chelsea.png')).diagnosis;
    expect(u8.causes[0]!.code, u8.summary).toBe('quantization');
    expect(f16.causes.some((c) => c.code === 'kernel')).toBe(false);
    expect(u8.impact.outputNrmse!).toBeGreaterThan(5 * f16.impact.outputNrmse!);
  });
});

describe('float16: a real half-float WebGL trace', () => {
  it('exray trace --browser --backend webgl --f16 (the emotion CNN), then diagnose: float16, input matches', async () => {
    const out = join(tmp, 'f16.exray');
    const quiet = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['node', 'exray', 'trace', join(MODELS, 'emotion'), '--image', join(SAMPLES, 'chelsea.png'), '--browser', '--backend', 'webgl', '--f16', '--runs', '1', '--warmup', '0', '--out', out]);
    } finally {
      process.stdout.write = quiet;
      process.exitCode = undefined;
    }
    expect(code).toBe(0);
    const edge = await readTrace(out);
    const { diagnosis: d } = await runDiagnosis({ edge, image: join(SAMPLES, 'chelsea.png'), backend: 'wasm' });
    expect(d.causes[0]!.code, d.summary).toBe('float16');
    expect(d.causes[0]!.detail).toMatch(/^half-float backend \(floatPrecision 16, WEBGL_FORCE_F16_TEXTURES/);
    expect(d.causes.some((c) => c.code === 'kernel')).toBe(false);
    expect(d.inputMatches).toBe(true);
    expect(d.firstDivergentNode).not.toBeNull();
  }, 180_000);
});
