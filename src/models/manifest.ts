/** model.json reading and weight-shard checks on disk (Node). Parsing is in manifest-parse.ts (pure). */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { assertInsideModelFolder } from './contained.ts';
import { parseTfjsModelJson, weightByteSize, type TfjsModelJson } from './manifest-parse.ts';
import { checkTfjsGraph } from './graph-check.ts';
import { limits, overLimit } from '../limits.ts';
import { readInputBytes } from '../read-input.ts';

export * from './manifest-parse.ts';

/** Read and parse `model.json`; errors name the file. */
export async function readTfjsModelJson(modelJsonPath: string): Promise<{ model: TfjsModelJson; bytes: Buffer }> {
  let bytes: Buffer;
  try {
    // A regular file within EXRAY_MAX_FILE_BYTES (docs/limits.md).
    const b = await readInputBytes(modelJsonPath);
    bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if (e instanceof ExrayInputError) throw e;
    throw new ExrayInputError(modelJsonPath, `cannot read model.json (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ExrayInputError(modelJsonPath, `is not valid JSON (${(e as Error).message})`);
  }
  const model = parseTfjsModelJson(json, modelJsonPath);
  // Node count, dangling inputs and cycles, in linear time, before TF.js sees the graph (docs/limits.md).
  checkTfjsGraph(model.json, modelJsonPath, limits().nodes);
  return { model, bytes };
}

/** Absolute path of a manifest shard; rejects paths that leave the model directory. */
export function shardPath(modelDir: string, rel: string, modelJsonPath: string): string {
  const abs = path.resolve(modelDir, rel);
  const back = path.relative(modelDir, abs);
  if (back.startsWith('..') || path.isAbsolute(back) || /^[a-z]+:\/\//i.test(rel)) {
    throw new ExrayInputError(modelJsonPath, `weightsManifest path ${JSON.stringify(rel)} is not a file inside the model directory`);
  }
  return abs;
}

export interface ShardInfo {
  /** Path as written in the manifest. */
  rel: string;
  abs: string;
  bytes: number;
}

/**
 * Check every shard of every manifest group: it exists, and the group's shards hold exactly the bytes
 * the group's weights need. On a mismatch the error names the shard most likely at fault (TF.js shards
 * a group into equal-sized files with a smaller last one, so the odd one out is the culprit).
 */
export async function checkShards(modelDir: string, model: TfjsModelJson, modelJsonPath: string): Promise<ShardInfo[]> {
  await assertInsideModelFolder(modelDir, modelJsonPath);
  const out: ShardInfo[] = [];
  for (const [gi, group] of model.weightsManifest.entries()) {
    const infos: ShardInfo[] = [];
    for (const rel of group.paths) {
      const abs = shardPath(modelDir, rel, modelJsonPath);
      let bytes: number;
      try {
        const st = await stat(abs);
        if (!st.isFile()) throw new Error('not a file');
        bytes = st.size;
      } catch {
        throw new ExrayInputError(abs, `weight shard listed in ${path.basename(modelJsonPath)} weightsManifest[${gi}] is missing`);
      }
      // Before any byte is read (Node's readFile stops at 2 GiB with a message naming no file).
      const cap = limits().fileBytes;
      if (bytes > cap) throw new ExrayInputError(abs, `weight shard is ${bytes.toLocaleString('en-US')} bytes, ${overLimit('fileBytes', cap, true)}`);
      await assertInsideModelFolder(modelDir, abs);
      infos.push({ rel, abs, bytes });
    }
    let needed = 0;
    let knowable = true;
    for (const w of group.weights) {
      const n = weightByteSize(w);
      if (n === null) knowable = false;
      else needed += n;
    }
    const actual = infos.reduce((a, s) => a + s.bytes, 0);
    if (knowable && actual !== needed) {
      const culprit = pickCulprit(infos, needed);
      const detail = infos.length === 1
        ? `holds ${actual} bytes but weightsManifest[${gi}] needs ${needed} bytes (sum of its ${group.weights.length} weights, dtype x shape)`
        : `looks wrong: the ${infos.length} shards of weightsManifest[${gi}] (${infos.map((s) => `${s.rel}=${s.bytes}`).join(', ')}) hold ${actual} bytes but its ${group.weights.length} weights need ${needed} bytes`;
      throw new ExrayInputError(culprit.abs, `${actual < needed ? 'truncated: ' : 'too long: '}${detail}`);
    }
    out.push(...infos);
  }
  return out;
}

/** TF.js converter default `weight_shard_size_bytes`. */
const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

function pickCulprit(shards: ShardInfo[], needed: number): ShardInfo {
  const last = shards[shards.length - 1] as ShardInfo;
  if (shards.length === 1) return last;
  const nonLast = shards.slice(0, -1);
  // The last shard is exactly what a default-size split predicts: a non-last shard is off.
  if (last.bytes === needed - DEFAULT_SHARD_BYTES * nonLast.length) {
    const odd = nonLast.find((s) => s.bytes !== DEFAULT_SHARD_BYTES);
    if (odd) return odd;
  }
  // Otherwise the odd one out among the full-size shards, else the last one.
  const full = Math.max(...nonLast.map((s) => s.bytes));
  return nonLast.find((s) => s.bytes !== full) ?? last;
}
