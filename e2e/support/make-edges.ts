/**
 * Set-up of e2e/diagnose-page.spec.ts, run with tsx (TF.js stays out of the Playwright process):
 * edge traces with real deployment bugs, made the way test/diagnose-helpers.ts makes them (the card's
 * pipeline with one step swapped, traced in Node on wasm, recording the photo and the card's spec as a
 * real deployment would), and what the CLI says about each: `exray diagnose <edge> --image <photo> --json`.
 *
 *   npx tsx e2e/support/make-edges.ts <out dir>
 *
 * Kernel cases (a node that computes wrongly on its own inputs, recorded under the original model's
 * identity, as bench/diagnose.ts `perturbed()` and test/diagnose-onnx-kernel.test.ts make them): a
 * MobileNetV2 convolution's weights scaled by 1.02 (CLI reference TF.js cpu, as the page's), the
 * PaddleOCR classifier's HardSigmoid alpha 0.2 → 0.3 (CLI `--backend wasm`: onnxruntime-web wasm, as
 * the page's).
 *
 * Writes <name>.exray and <name>.cli.json per case, and cases.json.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrace } from '../../src/cli/io.ts';
import { traceModel } from '../../src/instrument/tfjs/index.ts';
import { traceOnnx } from '../../src/instrument/ort/index.ts';
import { decodeOnnx, describeOnnx, encodeOnnx } from '../../src/onnx/model.ts';
import { modelHash } from '../../src/models/hash.ts';
import { loadTfjsModelFromDir } from '../../src/models/load-node.ts';
import { decodeImageFile } from '../../src/preprocess/decode-node.ts';
import { preprocess } from '../../src/preprocess/pipeline.ts';
import { loadOrt } from '../../src/reference/ort-node.ts';
import { tf, useBackend } from '../../src/reference/tfjs-backend.ts';
import type { PreprocessSpec, Trace } from '../../src/trace/types.ts';
import { edgeCase } from '../../test/diagnose-helpers.ts';
import { card, MODELS, runCli, SAMPLES } from '../../test/helpers.ts';

/** A TF.js model on wasm with the convolution a third of the way in (`_FusedConv2D` node or Conv2D layer) scaled by 1.02. */
async function perturbedConv(name: string, photo: string): Promise<{ edge: Trace; target: string }> {
  await useBackend('wasm');
  const dir = join(MODELS, name);
  const { model } = await loadTfjsModelFromDir(dir, tf);
  const input = (await card(name)).inputs[0]!;
  const decoded = await decodeImageFile(join(SAMPLES, photo));
  const t = preprocess(decoded.image, decoded.source.exifOrientation, input.preprocess!);
  const x = tf.tensor(t.data, t.shape, t.dtype);
  try {
    let target: string;
    if ('executor' in model) {
      const ex = (model as unknown as { executor: { graph: { nodes: Record<string, { name: string; op: string; inputNames: string[] }> }; weightMap: Record<string, tf.Tensor[]> } }).executor;
      const convs = Object.values(ex.graph.nodes).filter((n) => n.op === '_FusedConv2D');
      const c = convs[Math.floor(convs.length / 3)]!;
      target = c.name;
      const w = c.inputNames[1]!;
      ex.weightMap[w] = [tf.tidy(() => ex.weightMap[w]![0]!.mul(1.02))];
    } else {
      const layers = (model as unknown as { layers: { name: string; getClassName(): string; getWeights(): tf.Tensor[]; setWeights(w: tf.Tensor[]): void }[] }).layers.filter((l) => l.getClassName() === 'Conv2D');
      const l = layers[Math.floor(layers.length / 3)]!;
      target = l.name;
      l.setWeights(l.getWeights().map((w, i) => (i === 0 ? tf.tidy(() => w.mul(1.02)) : w)));
    }
    const edge = await traceModel(model, 'executor' in model ? { [input.name]: x } : x, { capture: 'tensors', runs: 1, warmup: 0, modelName: name, modelSha256: await modelHash(dir), inputNames: [input.name], source: decoded.source, preprocess: input.preprocess!, label: 'edge' });
    return { edge, target };
  } finally {
    x.dispose();
    model.dispose();
  }
}

/** The PaddleOCR classifier on onnxruntime-web wasm with one HardSigmoid's alpha 0.2 → 0.3, under the original's sha256. */
async function editedHardSigmoid(name: string, photo: string, target: string): Promise<{ edge: Trace; target: string }> {
  const file = join(MODELS, name, 'model.onnx');
  const bytes = readFileSync(file);
  const model = decodeOnnx(new Uint8Array(bytes), file);
  const n = model.graph!.node[describeOnnx(model).nodes.find((x) => x.name === target)!.position]!;
  n.attribute.find((a) => a.name === 'alpha')!.f = 0.3;
  const input = (await card(name)).inputs[0]!;
  const decoded = await decodeImageFile(join(SAMPLES, photo));
  const t = preprocess(decoded.image, decoded.source.exifOrientation, input.preprocess!);
  const { ort, runtime } = await loadOrt('wasm');
  const edge = await traceOnnx(ort, encodeOnnx(model), [{ name: input.name, shape: t.shape, dtype: t.dtype, data: t.data }], {
    runtime,
    executionProvider: 'wasm',
    profiler: null,
    capture: 'tensors',
    runs: 1,
    warmup: 0,
    modelName: name,
    modelSha256: createHash('sha256').update(bytes).digest('hex'),
    source: decoded.source,
    preprocess: input.preprocess!,
    label: 'edge',
  });
  return { edge, target };
}

const MODEL = 'nsfw-mobilenet-v2';
const CASES: { name: string; photo: string; model?: string; wrong?: Partial<PreprocessSpec> }[] = [
  { name: 'bgr-0-255', photo: 'chelsea.png', wrong: { channels: 'bgr', scale: 1 } },
  { name: 'clean', photo: 'chelsea.png' },
  { name: 'exif-ignored', photo: 'chelsea_exif6.jpg', wrong: { exif: 'ignore' } },
  // ONNX: the PaddleOCR orientation classifier (BGR, NCHW, [-1,1]) fed RGB in [0,1]; a colour photo
  // (on the black-on-white text line a channel swap changes nothing).
  { name: 'onnx-rgb-0-1', photo: 'coffee.png', model: 'ppocr-mobile-v2-cls', wrong: { channels: 'rgb', mean: [0], std: [1] } },
];

const KERNEL_CASES: { name: string; photo: string; make: () => Promise<{ edge: Trace; target: string }>; args: string[] }[] = [
  { name: 'kernel-conv', photo: 'flower.jpg', make: () => perturbedConv(MODEL, 'flower.jpg'), args: [] },
  { name: 'onnx-kernel', photo: 'chelsea.png', make: () => editedHardSigmoid('ppocr-mobile-v2-cls', 'chelsea.png', 'p2o.HardSigmoid.4'), args: ['--backend', 'wasm'] },
];

const out = process.argv[2];
if (!out) throw new Error('usage: make-edges.ts <out dir>');
const written: { name: string; file: string; photo: string; cli: string; target?: string }[] = [];
for (const c of KERNEL_CASES) {
  const file = join(out, `${c.name}.exray`);
  const { edge, target } = await c.make();
  await writeTrace(file, edge);
  const photo = join(SAMPLES, c.photo);
  const r = await runCli(['diagnose', file, '--image', photo, ...c.args, '--json']);
  if (r.code !== 0) throw new Error(`exray diagnose ${file}: exit ${r.code}\n${r.err}`);
  const cli = join(out, `${c.name}.cli.json`);
  writeFileSync(cli, r.out);
  written.push({ name: c.name, file, photo, cli, target });
}
for (const c of CASES) {
  const file = join(out, `${c.name}.exray`);
  await writeTrace(file, (await edgeCase({ model: c.model ?? MODEL, photo: c.photo, ...(c.wrong ? { wrong: c.wrong } : {}) })).edge);
  const photo = join(SAMPLES, c.photo);
  const r = await runCli(['diagnose', file, '--image', photo, '--json']);
  if (r.code !== 0) throw new Error(`exray diagnose ${file}: exit ${r.code}\n${r.err}`);
  const cli = join(out, `${c.name}.cli.json`);
  writeFileSync(cli, r.out);
  written.push({ name: c.name, file, photo, cli });
}
writeFileSync(join(out, 'cases.json'), JSON.stringify(written, null, 2));
