/** A TF.js model from the page's payload (model.json + shards already in memory). */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { TfjsModel } from '../../instrument/tfjs/index.ts';
import type { TfjsModelPayload } from './protocol.ts';

export async function loadModel(payload: TfjsModelPayload): Promise<TfjsModel> {
  const json = payload.modelJson as unknown as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => [tf.io.getWeightSpecs(manifest), payload.shards]);
  const handler = tf.io.fromMemory(artifacts);
  const format = (payload.modelJson as { format?: unknown }).format;
  const isLayers = format === 'layers-model' || (format === undefined && !Array.isArray((json.modelTopology as { node?: unknown } | undefined)?.node));
  return isLayers ? loadLayersModel(handler) : loadGraphModel(handler);
}
