/**
 * Set-up of e2e/repro-page.spec.ts, run with tsx (TF.js stays out of the Playwright process):
 *
 * - kernel: emotion with one convolution's filter scaled by 1.2 (test/repro-helpers.ts, the CLI repro
 *   test's case), written as the deployed model folder; its edge trace on TF.js wasm and the original
 *   emotion's reference trace on cpu, both `tensors`, on chelsea.png; and the same for the PaddleOCR
 *   classifier with one HardSigmoid's alpha 0.2 → 0.3 (onnxruntime-web wasm vs onnxruntime-node);
 * - decoder: blazeface fed butterfly.jpg decoded by jpeg-js (the reference decodes it with another
 *   decoder): a clean run whose decoder difference is information, not a cause;
 * - two-tone: the PaddleOCR classifier (BGR) fed RGB on a navy-on-cream text line (page_line1.png made
 *   two-tone, written as a PNG): channel-order, with the per-channel normalisation as runner-up.
 *
 *   npx tsx e2e/support/make-repro-edges.ts <out dir>   → writes cases.json
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeTrace } from '../../src/cli/io.ts';
import { prepareInput } from '../../src/cli/commands/trace.ts';
import { decodeOnnx, encodeOnnx } from '../../src/onnx/model.ts';
import { decodeImageFile } from '../../src/preprocess/decode-node.ts';
import type { RgbaImage } from '../../src/preprocess/image.ts';
import { preprocess } from '../../src/preprocess/pipeline.ts';
import { traceInNode } from '../../src/reference/trace-node.ts';
import type { InputSource, PreprocessSpec } from '../../src/trace/types.ts';
import { decodeWithJpegJs, twoTone } from '../../test/decoder-helpers.ts';
import { setOnnxAttribute } from '../../test/diagnose-helpers.ts';
import { card, MODELS, SAMPLES } from '../../test/helpers.ts';
import { editedEmotion } from '../../test/repro-helpers.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: make-repro-edges.ts <out dir>');

/**
 * The deployed model's edge trace on wasm and the original's reference trace on cpu, both fed `photo`
 * through the deployed model's card, written as `<prefix>edge.exray` and `<prefix>reference.exray`.
 */
async function edgeAndReference(deployedDir: string, originalDir: string, prefix: string): Promise<{ edge: string; reference: string }> {
  const feed = await prepareInput(deployedDir, { image: photo });
  const common = { feed: feed.feed, feedFile: feed.feedFile, capture: 'tensors' as const, runs: 1, warmup: 0, ...(feed.source ? { source: feed.source } : {}), ...(feed.preprocess ? { preprocess: feed.preprocess } : {}) };
  const edge = join(out!, `${prefix}edge.exray`);
  await writeTrace(edge, await traceInNode({ ...common, model: deployedDir, backend: 'wasm', label: 'edge' }));
  const reference = join(out!, `${prefix}reference.exray`);
  await writeTrace(reference, await traceInNode({ ...common, model: originalDir, backend: 'cpu', label: 'reference' }));
  return { edge, reference };
}

// ---- kernel: the deployed (edited) emotion on wasm vs the original on cpu
const photo = join(SAMPLES, 'chelsea.png');
const deployed = join(out, 'emotion-deployed');
const node = editedEmotion(deployed);
const { edge: edgeFile, reference: refFile } = await edgeAndReference(deployed, join(MODELS, 'emotion'), '');

// ---- kernel, ONNX: the PaddleOCR classifier with one HardSigmoid's alpha 0.2 → 0.3 (the CLI repro
// test's case), deployed as a folder of its own, on onnxruntime-web wasm vs the original on onnxruntime-node
const ONNX_NODE = 'p2o.HardSigmoid.4';
const onnxDeployed = join(out, 'cls-deployed');
mkdirSync(onnxDeployed, { recursive: true });
const clsFile = join(MODELS, 'ppocr-mobile-v2-cls', 'model.onnx');
writeFileSync(join(onnxDeployed, 'model.onnx'), encodeOnnx(setOnnxAttribute(decodeOnnx(new Uint8Array(readFileSync(clsFile)), clsFile), ONNX_NODE, 'alpha', 0.3)));
copyFileSync(join(MODELS, 'ppocr-mobile-v2-cls', 'exray.json'), join(onnxDeployed, 'exray.json'));
const { edge: onnxEdge, reference: onnxRef } = await edgeAndReference(onnxDeployed, join(MODELS, 'ppocr-mobile-v2-cls'), 'cls-');

/** A `stats` edge trace (no replays needed) of a sample model fed `image` through its card's pipeline with `wrong` steps. */
async function statsEdge(model: string, image: RgbaImage, source: InputSource, file: string, wrong: Partial<PreprocessSpec> = {}): Promise<void> {
  const input = (await card(model)).inputs[0]!;
  const spec = input.preprocess!;
  const t = preprocess(image, source.exifOrientation, { ...spec, ...wrong });
  const trace = await traceInNode({
    model: join(MODELS, model),
    backend: 'wasm',
    feed: [{ name: input.name, shape: t.shape, dtype: spec.dtype === 'float32' ? 'float32' : 'int32', data: t.data }],
    feedFile: source.fileName,
    capture: 'stats',
    runs: 1,
    warmup: 0,
    source,
    preprocess: spec,
    label: 'edge',
  });
  await writeTrace(file, trace);
}

// ---- decoder: jpeg-js on the edge
const butterfly = join(SAMPLES, 'butterfly.jpg');
const decoderFile = join(out, 'decoder.exray');
await statsEdge('blazeface', decodeWithJpegJs(butterfly), (await decodeImageFile(butterfly)).source, decoderFile);

// ---- two-tone text line, RGB fed to a BGR model
const line = await decodeImageFile(join(SAMPLES, 'page_line1.png'));
const tone = twoTone(line.image);
const tonePhoto = join(out, 'two-tone.png');
await sharp(Buffer.from(tone.data.buffer, tone.data.byteOffset, tone.data.byteLength), { raw: { width: tone.width, height: tone.height, channels: 4 } }).png().toFile(tonePhoto);
const toneDecoded = await decodeImageFile(tonePhoto);
const toneFile = join(out, 'two-tone.exray');
await statsEdge('ppocr-mobile-v2-cls', toneDecoded.image, toneDecoded.source, toneFile, { channels: 'rgb' });

writeFileSync(
  join(out, 'cases.json'),
  JSON.stringify({ kernel: { edge: edgeFile, reference: refFile, deployed, node }, onnx: { edge: onnxEdge, reference: onnxRef, deployed: onnxDeployed, node: ONNX_NODE }, decoder: { edge: decoderFile, photo: butterfly }, twoTone: { edge: toneFile, photo: tonePhoto } }, null, 2),
);
