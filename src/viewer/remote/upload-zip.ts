/**
 * The zip a page uploads to exray serve's model store (PUT /api/models/<sha256>, read by
 * src/server/model-zip.ts): model.json exactly as read (the identity hash is over its bytes) plus its
 * shards under the names the manifest gives, or the .onnx file as `model.onnx`; and the card. Pure.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import { CARD_FILE_NAME } from '../../models/card-schema.ts';
import { parseTfjsModelJson } from '../../models/manifest-parse.ts';
import { MODEL_FILE_PATTERN } from '../../transport/models-api.ts';
import type { LoadedModel } from '../load/model.ts';

const RESERVED = new Set(['model.json', 'model.onnx', CARD_FILE_NAME]);

/**
 * The upload zip of a loaded model: model.json as read plus its shards under the names the manifest
 * gives (stored, not deflated: weights do not compress), or the .onnx file; and the card.
 */
export function zipModel(m: LoadedModel): Uint8Array {
  const files: Zippable = {};
  if (m.format === 'onnx') {
    if (!m.onnx) throw new Error('the ONNX model bytes are not loaded');
    files['model.onnx'] = [new Uint8Array(m.onnx), { level: 0 }];
  } else {
    if (!m.modelJsonBytes) throw new Error('model.json as read is not kept for this model: load it again from its files');
    files['model.json'] = [new Uint8Array(m.modelJsonBytes), { level: 6 }];
    const paths = parseTfjsModelJson(m.modelJson, 'model.json').weightsManifest.flatMap((g) => g.paths);
    if (paths.length !== m.shards.length) throw new Error(`model.json lists ${paths.length} shards, ${m.shards.length} are loaded`);
    paths.forEach((p, i) => {
      if (!MODEL_FILE_PATTERN.test(p) || RESERVED.has(p) || /\.(json|onnx)$/i.test(p)) {
        throw new Error(`model.json names the shard ${JSON.stringify(p)}: only shards next to model.json with plain names (letters, digits, ".", "_", "-") can be uploaded`);
      }
      files[p] = [new Uint8Array(m.shards[i]!), { level: 0 }];
    });
  }
  if (m.card) files[CARD_FILE_NAME] = strToU8(JSON.stringify(m.card, null, 2));
  return zipSync(files);
}
