/**
 * `/models/index.json`: what the page can load without the user's files. Written by the `exray-models`
 * Vite plugin (vite.config.ts) from `models/<name>/exray.json` and `public/samples/`.
 */
import type { ModelCard } from '../../models/card-schema.ts';
import type { TensorSampleSet } from './tensor-inputs.ts';

export interface SampleModelEntry {
  name: string;
  card: ModelCard;
  /** model.json then every weight shard, in manifest order (paths relative to `/models/<name>/`). */
  files: string[];
  /** Total bytes of `files`. */
  bytes: number;
  /** False when the model files were not extracted (`npm run models`); `problem` says why. */
  ready: boolean;
  problem?: string;
  /** Bundled input tensor sets (`public/samples/tensors/<name>/sets.json`), for models not fed a photo. */
  tensorSets?: TensorSampleSet[];
}

export interface SampleIndex {
  models: SampleModelEntry[];
  /** Photo file names under `/samples/`. */
  photos: string[];
}

export const SAMPLE_INDEX_URL = 'models/index.json';
