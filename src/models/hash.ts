/** The model identity hash (`ModelIdentity.sha256` in src/trace/types.ts). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ExrayInputError } from '../errors.ts';
import { checkShards, readTfjsModelJson } from './manifest.ts';
import { resolveModelJsonPath } from './load-node.ts';

/**
 * sha256 (hex) over the bytes of model.json, then every weight shard in manifest order (groups in
 * order, paths in order). `modelDir` may also be the path of the model.json itself.
 */
export async function modelHash(modelDir: string): Promise<string> {
  const { dir, modelJsonPath } = await resolveModelJsonPath(modelDir);
  const { model, bytes } = await readTfjsModelJson(modelJsonPath);
  const shards = await checkShards(dir, model, modelJsonPath);
  const hash = createHash('sha256');
  hash.update(bytes);
  for (const s of shards) {
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(s.abs);
      stream.on('data', (chunk) => hash.update(chunk));
      stream.on('end', () => resolve());
      stream.on('error', (e) => reject(new ExrayInputError(s.abs, `cannot read weight shard (${e.message})`)));
    });
  }
  return hash.digest('hex');
}
