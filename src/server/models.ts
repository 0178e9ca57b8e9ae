/**
 * The models the server can run a reference for: the bundled samples in `models/`, found by the
 * sha256 a trace records (the same identity hash `exray trace` writes). A trace's model name is a
 * label only: it is never joined to a path. Models uploaded to the server are model-store.ts.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CARD_FILE_NAME, loadModelCard, type ModelCard } from '../models/card.ts';
import { checkShards, readTfjsModelJson } from '../models/manifest.ts';
import { isOnnxModelPath, resolveOnnxFile } from '../reference/ort-node.ts';
import { modelIdentityHash } from '../reference/trace-node.ts';
import type { ModelListing } from '../transport/models-api.ts';
import type { ModelLocator } from './reference.ts';

/** A model on disk as `GET /api/models` lists it, with its directory (never sent). */
export interface IndexedModel extends ModelListing {
  dir: string;
}

export interface ModelIndex {
  locate: ModelLocator;
  /** sha256 → model directory. */
  readonly byHash: ReadonlyMap<string, string>;
  /** sha256 → the model as listed (origin `sample`), in directory name order. */
  readonly entries: ReadonlyMap<string, IndexedModel>;
}

/** Files, format and bytes of the model in `dir` (whose identity hash is `sha256`). */
export async function describeModelDir(dir: string, sha256: string, name: string, origin: ModelListing['origin']): Promise<IndexedModel> {
  const cardPath = join(dir, CARD_FILE_NAME);
  const card: ModelCard | null = (await stat(cardPath).then((s) => s.isFile(), () => false)) ? await loadModelCard(cardPath) : null;
  if (await isOnnxModelPath(dir)) {
    const { file } = await resolveOnnxFile(dir);
    return { sha256, name, format: 'onnx', files: [basename(file)], bytes: (await stat(file)).size, card, origin, dir };
  }
  const modelJsonPath = join(dir, 'model.json');
  const { model, bytes } = await readTfjsModelJson(modelJsonPath);
  const shards = await checkShards(dir, model, modelJsonPath);
  return {
    sha256,
    name,
    format: model.kind,
    files: ['model.json', ...shards.map((s) => s.rel)],
    bytes: bytes.byteLength + shards.reduce((a, s) => a + s.bytes, 0),
    card,
    origin,
    dir,
  };
}

export async function indexModels(roots: readonly string[]): Promise<ModelIndex> {
  const byHash = new Map<string, string>();
  const entries = new Map<string, IndexedModel>();
  for (const root of roots) {
    const names = await readdir(root).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const dir = join(root, name);
      if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
      let sha: string;
      try {
        sha = await modelIdentityHash(dir);
      } catch {
        continue; // not a model folder (or not extracted yet): nothing to run a reference on
      }
      byHash.set(sha, dir);
      try {
        entries.set(sha, await describeModelDir(dir, sha, name, 'sample'));
      } catch {
        // a reference can still run on it; it is just not listed (e.g. an invalid card)
      }
    }
  }
  return { byHash, entries, locate: (sha256) => byHash.get(sha256) ?? null };
}
