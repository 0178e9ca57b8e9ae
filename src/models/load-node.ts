/**
 * Load a TF.js model from a directory on disk in Node, without fetch / file:// URLs.
 *
 * The caller passes its own `tf` namespace (and so chooses the backend); this module imports only
 * types from TF.js.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { ExrayInputError } from '../errors.ts';
import { checkShards, readTfjsModelJson, type TfjsModelKind } from './manifest.ts';

export interface LoadedTfjsModel {
  model: tfjs.GraphModel | tfjs.LayersModel;
  format: TfjsModelKind;
  /** The parsed model.json as read from disk. */
  modelJson: unknown;
}

/** Resolve a model directory or a path to its model.json to `{ dir, modelJsonPath }`. */
export async function resolveModelJsonPath(dirOrFile: string): Promise<{ dir: string; modelJsonPath: string }> {
  let st;
  try {
    st = await stat(dirOrFile);
  } catch {
    throw new ExrayInputError(dirOrFile, 'model directory or model.json does not exist');
  }
  if (st.isDirectory()) {
    const modelJsonPath = path.join(dirOrFile, 'model.json');
    try {
      await stat(modelJsonPath);
    } catch {
      throw new ExrayInputError(modelJsonPath, 'model.json is missing (run `npm run models` to extract the sample models)');
    }
    return { dir: dirOrFile, modelJsonPath };
  }
  return { dir: path.dirname(dirOrFile), modelJsonPath: dirOrFile };
}

/**
 * Read model.json and its weight shards from `dirOrFile` (a directory holding model.json, or the
 * model.json path) and load it with the given TF.js namespace as a GraphModel or LayersModel.
 * Every input problem is an ExrayInputError naming the file.
 */
export async function loadTfjsModelFromDir(dirOrFile: string, tf: typeof tfjs): Promise<LoadedTfjsModel> {
  const { dir, modelJsonPath } = await resolveModelJsonPath(dirOrFile);
  const { model: parsed } = await readTfjsModelJson(modelJsonPath);
  const shards = await checkShards(dir, parsed, modelJsonPath);

  const total = shards.reduce((a, s) => a + s.bytes, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    const buf = await readFile(s.abs);
    if (buf.byteLength !== s.bytes) throw new ExrayInputError(s.abs, `changed size while reading (${s.bytes} -> ${buf.byteLength} bytes)`);
    weightData.set(buf, offset);
    offset += buf.byteLength;
  }

  const json = parsed.json;
  const weightSpecs = parsed.weightsManifest.flatMap((g) => g.weights) as tfjs.io.WeightsManifestEntry[];
  const artifacts: tfjs.io.ModelArtifacts = {
    modelTopology: json['modelTopology'] as tfjs.io.ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData: weightData.buffer,
  };
  const optional = ['format', 'generatedBy', 'convertedBy', 'trainingConfig', 'signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature'] as const;
  const target = artifacts as unknown as Record<string, unknown>;
  for (const key of optional) {
    if (json[key] !== undefined) target[key] = json[key];
  }
  const handler: tfjs.io.IOHandler = { load: () => Promise.resolve(artifacts) };

  try {
    const model = parsed.kind === 'tfjs-graph' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
    return { model, format: parsed.kind, modelJson: json };
  } catch (e) {
    throw new ExrayInputError(modelJsonPath, `TF.js could not build the ${parsed.kind} model: ${(e as Error).message}`);
  }
}
