/**
 * Where each sample model comes from. The packages are pinned in package.json; the versions here
 * must match what is installed (extraction refuses otherwise, since the committed cards describe
 * exactly these files).
 */

export type SampleSourceKind =
  /** nsfwjs: UMD bundles `model.min.js` + `<shard>.min.js` holding model.json and base64 shards. */
  | 'nsfwjs-bundle'
  /** A plain TF.js `<x>.json` + `.bin` pair (@vladmandic/human `models/`). */
  | 'tfjs-json';

export interface SampleSource {
  name: string;
  package: string;
  version: string;
  kind: SampleSourceKind;
  /** nsfwjs-bundle: directory in the package; tfjs-json: the model json file in the package. */
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
];
