/**
 * The ONNX sample models: committed cards, extraction from their npm packages, and each card checked
 * against the model file it describes (names, dtypes, shapes, labels).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractModels, type ExtractReport } from '../src/models/extract.ts';
import { listSampleModels, type SampleModel } from '../src/models/samples.ts';
import { SAMPLE_SOURCES } from '../src/models/sources.ts';
import { paddleOcrLabels } from '../src/onnx/ctc.ts';
import { decodeOnnx, describeOnnx, type OnnxGraphInfo } from '../src/onnx/model.ts';
import { onnxModelHash, resolveOnnxFile } from '../src/reference/ort-node.ts';
import { ROOT } from './ort-helpers.ts';

const ONNX = ['ppocr-mobile-v2-cls', 'ppocr-v4-det', 'ppocr-v4-rec', 'silero-vad-v5'];
let report: ExtractReport;
let samples: SampleModel[];
let tmp: string;

beforeAll(async () => {
  report = await extractModels({ projectRoot: ROOT, only: ONNX });
  samples = (await listSampleModels(ROOT)).filter((s) => s.card.format === 'onnx');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'exray-ort-models-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const packageFile = (name: string): string => {
  const src = SAMPLE_SOURCES.find((s) => s.name === name)!;
  return path.join(ROOT, 'node_modules', src.package, src.path);
};

async function modelInfo(s: SampleModel): Promise<OnnxGraphInfo> {
  const file = path.join(s.dir, s.card.modelFile);
  return describeOnnx(decodeOnnx(new Uint8Array(await readFile(file)), file));
}

describe('ONNX sample models', () => {
  it('has a committed onnx card for each ONNX source, and nothing else of format onnx', () => {
    expect(samples.map((s) => s.name)).toEqual(ONNX);
    expect(SAMPLE_SOURCES.filter((s) => s.kind === 'onnx-file').map((s) => s.name).sort()).toEqual(ONNX);
    for (const s of samples) {
      const src = SAMPLE_SOURCES.find((x) => x.name === s.name)!;
      expect(s.card.source).toMatchObject({ package: src.package, version: src.version, path: src.path });
      expect(s.card).toMatchObject({ format: 'onnx', modelFile: 'model.onnx', execution: 'sync' });
    }
  });

  it('extracts each model byte for byte from its package, and is idempotent', async () => {
    for (const name of ONNX) {
      const m = report.models.find((x) => x.name === name)!;
      expect(m.files.map((f) => f.file)).toEqual(['model.onnx']);
      const extracted = new Uint8Array(await readFile(path.join(ROOT, 'models', name, 'model.onnx')));
      expect(sha(extracted)).toBe(sha(new Uint8Array(await readFile(packageFile(name)))));
      expect(await onnxModelHash(path.join(ROOT, 'models', name))).toBe(sha(extracted));
      expect((await resolveOnnxFile(path.join(ROOT, 'models', name))).name).toBe(name);
    }
    const again = await extractModels({ projectRoot: ROOT, only: ONNX });
    expect(again.models.every((m) => m.status === 'up-to-date')).toBe(true);
  });

  it('re-extracts a damaged model into a fresh root and removes files of another format', async () => {
    const root = path.join(tmp, 'root');
    const r1 = await extractModels({ projectRoot: root, resolveFrom: ROOT, only: ['ppocr-mobile-v2-cls'] });
    expect(r1.models.map((m) => [m.name, m.status, m.method])).toEqual([['ppocr-mobile-v2-cls', 'extracted', 'copy']]);
    const dir = path.join(root, 'models', 'ppocr-mobile-v2-cls');
    await truncate(path.join(dir, 'model.onnx'), 1000);
    await writeFile(path.join(dir, 'model.json'), '{}');
    const r2 = await extractModels({ projectRoot: root, resolveFrom: ROOT, only: ['ppocr-mobile-v2-cls'] });
    expect(r2.models[0]?.status).toBe('extracted');
    expect((await readdir(dir)).sort()).toEqual(['model.onnx']);
    expect(await onnxModelHash(dir)).toBe(sha(new Uint8Array(await readFile(packageFile('ppocr-mobile-v2-cls')))));
  });

  it.each(ONNX)('%s: the card says what the model declares (names, dtypes, shapes)', async (name) => {
    const s = samples.find((x) => x.name === name)!;
    const info = await modelInfo(s);
    expect(s.card.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual(info.inputs.map((i) => [i.name, i.dtype, i.shape]));
    expect(s.card.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual(info.outputs.map((o) => [o.name, o.dtype, o.shape]));
  });

  it('describes the PaddleOCR pre-processing: BGR, NCHW, (x/255 - 0.5)/0.5, height 48', () => {
    for (const name of ['ppocr-v4-rec', 'ppocr-mobile-v2-cls']) {
      const pp = samples.find((s) => s.name === name)!.card.inputs[0]!.preprocess!;
      expect(pp).toMatchObject({ height: 48, channels: 'bgr', layout: 'nchw', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], dtype: 'float32' });
    }
    expect(samples.find((s) => s.name === 'ppocr-v4-rec')!.card.inputs[0]!.preprocess!.width).toBe(320);
    expect(samples.find((s) => s.name === 'ppocr-mobile-v2-cls')!.card.outputs[0]!.labels).toEqual(['0', '180']);
  });

  it('carries the recogniser\'s 6625 CTC labels, made from the package dictionary', async () => {
    const card = samples.find((s) => s.name === 'ppocr-v4-rec')!.card;
    const dict = await readFile(path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ppocr_keys_v1.txt'), 'utf8');
    const labels = card.outputs[0]!.labels!;
    expect(labels).toEqual(paddleOcrLabels(dict));
    expect(labels.length).toBe(card.outputs[0]!.shape[2]);
  });

  it('uses the one onnxruntime-web of the project (vad-web does not bring its own)', () => {
    const fromVad = createRequire(packageFile('silero-vad-v5')).resolve('onnxruntime-web');
    expect(fromVad.startsWith(path.join(ROOT, 'node_modules', 'onnxruntime-web') + path.sep)).toBe(true);
  });
});
