/**
 * The `decoder` finding and competing explanations (issue #13), on real decoders, real photos and real
 * models: JPEGs decoded by jpeg-js on the "edge" and by sharp (libjpeg-turbo) for the reference; a
 * two-tone image made from the PaddleOCR sample's real text line.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDiagnosis } from '../src/cli/commands/diagnose.ts';
import { fitInput, formatDiagnosis, type InputFit } from '../src/diagnose/index.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';
import type { PreprocessSpec } from '../src/trace/types.ts';
import { decoderNoise } from '../src/diagnose/test-images.ts';
import { cropImage, decodeWithJpegJs, edgeTrace, twoTone } from './decoder-helpers.ts';
import { card, MODELS, SAMPLES } from './helpers.ts';

async function specOf(model: string): Promise<PreprocessSpec> {
  return (await card(model)).inputs[0]!.preprocess!;
}

/** The input search of an edge that ran `wrong` on `edgeImage`, against the reference's decode of `photo`. */
async function fit(model: string, photo: string, edgeImage: (ref: RgbaImage) => RgbaImage, wrong: Partial<PreprocessSpec> = {}, refImage?: (ref: RgbaImage) => RgbaImage): Promise<InputFit> {
  const spec = await specOf(model);
  const d = await decodeImageFile(join(SAMPLES, photo));
  const ref = refImage ? refImage(d.image) : d.image;
  const t = preprocess(edgeImage(ref), d.source.exifOrientation, { ...spec, ...wrong });
  return fitInput({ image: ref, orientation: d.source.exifOrientation, spec, edge: { data: t.data, shape: t.shape }, mimeType: d.source.mimeType });
}

const jpegJs = (photo: string) => (): RgbaImage => decodeWithJpegJs(join(SAMPLES, photo));

describe('decoder: a JPEG decoded by jpeg-js, diagnosed against sharp (libjpeg-turbo)', () => {
  it('a 4:2:0 photo: measured and placed on chroma edges (colour only), never a cause', async () => {
    const f = await fit('nsfw-mobilenet-v2', 'apple.jpg', jpegJs('apple.jpg'));
    expect(f.causes).toEqual([]);
    expect(f.matches).toBe(true);
    const d = f.decoder!;
    expect(d.where).toBe('chroma-edges');
    expect(d.levels).toBeGreaterThan(0.3);
    expect(d.levels).toBeLessThan(3);
    expect(d.lumaShare!).toBeLessThan(0.25);
    expect(d.chromaEdgeShare!).toBeGreaterThan(0.25);
  });

  it('a 4:4:4 photo: IDCT rounding spread over the image, luma and chroma alike', async () => {
    const f = await fit('blazeface', 'flower.jpg', jpegJs('flower.jpg'));
    expect(f.causes).toEqual([]);
    const d = f.decoder!;
    expect(d.where).toBe('spread');
    expect(d.levels).toBeGreaterThan(0.2);
    expect(d.levels).toBeLessThan(1);
    expect(d.lumaShare!).toBeGreaterThan(0.25);
  });

  it('the same decoder leaves nothing to report; a PNG is not judged', async () => {
    expect((await fit('nsfw-mobilenet-v2', 'apple.jpg', (ref) => ref)).decoder).toBeNull();
    const png = await fit('nsfw-mobilenet-v2', 'chelsea.png', (ref) => decoderNoise(ref));
    expect(png.canonicalResidualLevels!).toBeGreaterThan(0.3);
    expect(png.decoder).toBeNull();
  });

  it('kept apart from a real bug: BGR on the jpeg-js decode is channel-order alone, the decoder still measured', async () => {
    const f = await fit('nsfw-mobilenet-v2', 'apple.jpg', jpegJs('apple.jpg'), { channels: 'bgr' });
    expect(f.causes.map((c) => c.code)).toEqual(['channel-order']);
    expect(f.causes[0]!.alternatives).toBeUndefined();
    expect(f.decoder!.where).toBe('chroma-edges');
  });

  it('end to end: a clean run on another decoder is `none` (outputs beyond float32 noise, result unchanged), the decoder named in `info`, the text and the JSON', async () => {
    const d = await decodeImageFile(join(SAMPLES, 'butterfly.jpg'));
    const edge = await edgeTrace('blazeface', decodeWithJpegJs(join(SAMPLES, 'butterfly.jpg')), d.source);
    const { diagnosis, comparison } = await runDiagnosis({ edge, image: d, model: join(MODELS, 'blazeface'), backend: 'wasm', maxReplay: 0 });
    // The float32 comparison flags any input difference; the model's result is what counts.
    expect(comparison.outputs.verdict).toBe('diverged');
    expect(diagnosis.impact.outputNrmse!).toBeLessThan(0.05);
    expect(diagnosis.causes.map((c) => c.code), diagnosis.summary).toEqual(['none']);
    expect(diagnosis.causes[0]!.detail).toMatch(/a different JPEG decoder \([\d.]+ levels rms, on chroma edges\), within tolerance/);
    expect(diagnosis.info?.map((c) => c.code)).toEqual(['decoder']);
    expect(diagnosis.info![0]!.evidence?.where).toBe('chroma-edges');
    expect(JSON.parse(JSON.stringify(diagnosis)).info[0].evidence.levels).toBe(diagnosis.input!.decoder!.levels);
    const text = formatDiagnosis(diagnosis);
    expect(text).toMatch(/Information \(not a bug on its own\):\n {2}- decoder +the JPEG was decoded by another decoder than the reference's: [\d.]+ levels rms/);
    expect(diagnosis.summary).toMatch(/^No deployment bug found/);
  });

  it('named as the cause only when it changes the result: an uncertain orientation call flipped by the other decoder', async () => {
    // A 256×64 window of apple.jpg given to the PaddleOCR orientation classifier: no text, so the
    // 0°/180° call is near 50/50 and jpeg-js's colour edges tip it (0.52/0.48 with sharp, 0.44/0.56
    // with jpeg-js, measured with onnxruntime-node).
    const d = await decodeImageFile(join(SAMPLES, 'apple.jpg'));
    const window = (img: RgbaImage): RgbaImage => cropImage(img, 128, 224, 256, 64);
    const source = { ...d.source, width: 256, height: 64 };
    const edge = await edgeTrace('ppocr-mobile-v2-cls', window(decodeWithJpegJs(join(SAMPLES, 'apple.jpg'))), source);
    const { diagnosis } = await runDiagnosis({ edge, image: { image: window(d.image), source }, model: join(MODELS, 'ppocr-mobile-v2-cls'), backend: 'cpu', maxReplay: 0 });
    expect(diagnosis.impact.top1Equal).toBe(false);
    expect(diagnosis.causes.map((c) => c.code), diagnosis.summary).toEqual(['decoder']);
    expect(diagnosis.causes[0]!.detail).toMatch(/levels rms .*enough to change the model's result/);
    expect(diagnosis.info).toBeUndefined();
    expect(diagnosis.inputMatches).toBe(true);
  });
});

describe('competing explanations: a two-tone text line (PaddleOCR sample, navy on cream)', () => {
  const tone = (ref: RgbaImage): RgbaImage => twoTone(ref);

  it('RGB fed to a BGR model: channel-order named, the per-channel normalisation shown as runner-up with its fit', async () => {
    const f = await fit('ppocr-mobile-v2-cls', 'page_line1.png', (x) => x, { channels: 'rgb' }, tone);
    expect(f.causes.map((c) => c.code)).toEqual(['channel-order']);
    const c = f.causes[0]!;
    expect(c.detail).toMatch(/channels fed as RGB, the model expects BGR/);
    expect(f.best.channels).toEqual([0, 1, 2]);
    const alt = c.alternatives!;
    expect(alt[0]!.codes).toEqual(['normalization']);
    expect(alt[0]!.detail).toMatch(/per-channel mean\/std the card does not use/);
    expect(alt[0]!.channels).toEqual([2, 1, 0]);
    expect(alt[0]!.residualLevels).toBeLessThan(1);
    // Its fit: different scales per channel, where the card has one.
    expect(new Set(alt[0]!.affine.scale.map((a) => a.toPrecision(2))).size).toBeGreaterThan(1);
  });

  it('a per-channel mean/std the card does not use, on the same image, stays normalization with no runner-up', async () => {
    const f = await fit('nsfw-mobilenet-v2', 'page_line1.png', (x) => x, { mean: [0.4, 0.5, 0.6], std: [0.3, 0.25, 0.2] }, tone);
    expect(f.causes.map((c) => c.code)).toEqual(['normalization']);
    expect(f.causes[0]!.alternatives).toBeUndefined();
  });

  it('the clean two-tone run reports nothing', async () => {
    const f = await fit('ppocr-mobile-v2-cls', 'page_line1.png', (x) => x, {}, tone);
    expect(f.causes).toEqual([]);
  });

  it('end to end on the recogniser: the runner-up in --json and in the text output', async () => {
    const d = await decodeImageFile(join(SAMPLES, 'page_line1.png'));
    const image = twoTone(d.image);
    const edge = await edgeTrace('ppocr-mobile-v2-cls', image, d.source, { channels: 'rgb' });
    const { diagnosis } = await runDiagnosis({ edge, image: { image, source: d.source }, model: join(MODELS, 'ppocr-mobile-v2-cls'), backend: 'cpu', maxReplay: 0 });
    expect(diagnosis.causes[0]!.code, diagnosis.summary).toBe('channel-order');
    const json = JSON.parse(JSON.stringify(diagnosis));
    expect(json.causes[0].alternatives[0].codes).toEqual(['normalization']);
    expect(formatDiagnosis(diagnosis)).toMatch(/1\. channel-order .*\n {5}runner-up \(fits as well, [\d.]+ levels rms\): normalization: given /);
  });
});
