/**
 * Set-up of e2e/diagnose-page.spec.ts, run with tsx (TF.js stays out of the Playwright process):
 * edge traces with real deployment bugs, made the way test/diagnose-helpers.ts makes them (the card's
 * pipeline with one step swapped, traced in Node on wasm, recording the photo and the card's spec as a
 * real deployment would), and what the CLI says about each: `exray diagnose <edge> --image <photo> --json`.
 *
 *   npx tsx e2e/support/make-edges.ts <out dir>
 *
 * Kernel cases (a node that computes wrongly on its own inputs, recorded under the original model's
 * identity: test/diagnose-helpers.ts `perturbedConvEdge` / `editedOnnxEdge`): a
 * MobileNetV2 convolution's weights scaled by 1.02 (CLI reference TF.js cpu, as the page's), the
 * PaddleOCR classifier's HardSigmoid alpha 0.2 → 0.3 (CLI `--backend wasm`: onnxruntime-web wasm, as
 * the page's).
 *
 * Writes <name>.exray and <name>.cli.json per case, and cases.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrace } from '../../src/cli/io.ts';
import { decodeImageFile } from '../../src/preprocess/decode-node.ts';
import type { DecodedImage } from '../../src/preprocess/image.ts';
import type { PreprocessSpec, Trace } from '../../src/trace/types.ts';
import { edgeCase, editedOnnxEdge, perturbedConvEdge, setOnnxAttribute } from '../../test/diagnose-helpers.ts';
import { runCli, SAMPLES } from '../../test/helpers.ts';

/** A sample photo, decoded. */
const decoded = (photo: string): Promise<DecodedImage> => decodeImageFile(join(SAMPLES, photo));

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
  { name: 'kernel-conv', photo: 'flower.jpg', make: async () => perturbedConvEdge(MODEL, await decoded('flower.jpg')), args: [] },
  { name: 'onnx-kernel', photo: 'chelsea.png', make: async () => ({
      edge: await editedOnnxEdge('ppocr-mobile-v2-cls', await decoded('chelsea.png'), (m) => setOnnxAttribute(m, 'p2o.HardSigmoid.4', 'alpha', 0.3)),
      target: 'p2o.HardSigmoid.4',
    }), args: ['--backend', 'wasm'] },
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
