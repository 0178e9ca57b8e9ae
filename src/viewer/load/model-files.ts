/**
 * Dropped or picked files → a LoadedModel, or every problem found, each naming its file: bad JSON, a
 * JSON file that is not a TF.js model, a missing shard, a shard whose size disagrees with the manifest,
 * an invalid model card.
 */
import { ExrayInputError } from '../../errors.ts';
import { CARD_FILE_NAME, parseModelCard, type ModelCard } from '../../models/card-schema.ts';
import { parseTfjsModelJson, weightByteSize, type TfjsModelJson } from '../../models/manifest-parse.ts';
import type { PickedFile } from './dropped-files.ts';
import { onnxLoadedModel } from './onnx-model.ts';
import { firstInputOf, ModelLoadError, sha256Hex, type FileProblem, type LoadedModel } from './model.ts';

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i + 1);
}

/** `a/./b/../c` → `a/c`. */
function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

async function parseJson(f: PickedFile): Promise<{ json: unknown; bytes: ArrayBuffer } | FileProblem> {
  const bytes = await f.file.arrayBuffer();
  try {
    return { json: JSON.parse(new TextDecoder().decode(bytes)), bytes };
  } catch (e) {
    return { file: f.path, problem: `is not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
}

function isProblem(x: unknown): x is FileProblem {
  return typeof x === 'object' && x !== null && 'problem' in x;
}

function problemOf(e: unknown, fallbackFile: string): FileProblem {
  if (e instanceof ExrayInputError) return { file: e.file, problem: e.problem };
  return { file: fallbackFile, problem: e instanceof Error ? e.message : String(e) };
}

/**
 * Which shard of a group is most likely wrong (the rule of src/models/manifest.ts checkShards): TF.js
 * writes equal-sized shards and a smaller last one, so the odd one out is the culprit.
 */
function pickCulprit(shards: PickedFile[], needed: number): PickedFile {
  const last = shards[shards.length - 1]!;
  if (shards.length === 1) return last;
  const nonLast = shards.slice(0, -1);
  const full = Math.max(...nonLast.map((s) => s.file.size));
  const odd = nonLast.find((s) => s.file.size !== full);
  if (odd) return odd;
  const lastExpected = needed - full * nonLast.length;
  if (lastExpected > 0 && lastExpected <= full) return last;
  return nonLast[0]!;
}

/** Check every shard of every manifest group; returns the shards in manifest order, or problems. */
export function matchShards(model: TfjsModelJson, modelPath: string, files: PickedFile[]): { shards: PickedFile[]; problems: FileProblem[] } {
  const modelName = baseName(modelPath);
  const byPath = new Map(files.map((f) => [normalize(f.path), f]));
  const byName = new Map<string, PickedFile[]>();
  for (const f of files) byName.set(baseName(f.path), [...(byName.get(baseName(f.path)) ?? []), f]);
  const shards: PickedFile[] = [];
  const problems: FileProblem[] = [];
  model.weightsManifest.forEach((group, gi) => {
    const found: PickedFile[] = [];
    for (const rel of group.paths) {
      const f = byPath.get(normalize(dirName(modelPath) + rel)) ?? byName.get(baseName(rel))?.[0];
      if (!f) problems.push({ file: baseName(rel), problem: `weight shard listed in ${modelName} weightsManifest[${gi}] is missing: drop it together with ${modelName}` });
      else found.push(f);
    }
    if (found.length !== group.paths.length) return;
    let needed = 0;
    let knowable = true;
    for (const w of group.weights) {
      const n = weightByteSize(w);
      if (n === null) knowable = false;
      else needed += n;
    }
    const actual = found.reduce((a, f) => a + f.file.size, 0);
    if (knowable && actual !== needed) {
      const culprit = pickCulprit(found, needed);
      problems.push({
        file: culprit.path,
        problem:
          `${actual < needed ? 'truncated' : 'too long'}: shard size does not match the manifest — ` +
          `${found.map((f) => `${baseName(f.path)} = ${f.file.size} bytes`).join(', ')}, but the ${group.weights.length} weights of ${modelName} weightsManifest[${gi}] need ${needed} bytes`,
      });
    }
    shards.push(...found);
  });
  return { shards, problems };
}

/** Build a model from files. Throws ModelLoadError listing every problem. */
export async function modelFromFiles(files: PickedFile[]): Promise<LoadedModel> {
  const problems: FileProblem[] = [];
  if (files.length === 0) throw new ModelLoadError([{ file: '(nothing)', problem: 'no files were given' }]);
  let card: ModelCard | null = null;
  const models: { f: PickedFile; model: TfjsModelJson; bytes: ArrayBuffer }[] = [];
  const notModels: FileProblem[] = [];
  for (const f of files.filter((x) => /\.json$/i.test(x.path))) {
    const parsed = await parseJson(f);
    if (isProblem(parsed)) {
      problems.push(parsed);
      continue;
    }
    if (baseName(f.path) === CARD_FILE_NAME) {
      try {
        card = parseModelCard(parsed.json, f.path);
      } catch (e) {
        problems.push(problemOf(e, f.path));
      }
      continue;
    }
    try {
      models.push({ f, model: parseTfjsModelJson(parsed.json, f.path), bytes: parsed.bytes });
    } catch (e) {
      notModels.push(problemOf(e, f.path));
    }
  }
  const onnxFiles = files.filter((f) => /\.onnx$/i.test(f.path));
  if (models.length === 0 && onnxFiles.length > 0) {
    if (onnxFiles.length > 1) problems.push({ file: onnxFiles.map((f) => f.path).join(', '), problem: 'several .onnx files: drop one model at a time' });
    if (problems.length > 0) throw new ModelLoadError(problems);
    const f = onnxFiles[0]!;
    const dirLabel = dirName(f.path).replace(/\/$/, '');
    const ignored = files.filter((x) => x !== f && baseName(x.path) !== CARD_FILE_NAME).map((x) => x.path);
    return onnxLoadedModel(await f.file.arrayBuffer(), { name: card?.name ?? (dirLabel ? baseName(dirLabel) : baseName(f.path).replace(/\.onnx$/i, '')), origin: 'files', card, file: f.path, ignored });
  }
  if (models.length === 0) {
    const names = files.map((f) => f.path).join(', ');
    problems.push(...notModels);
    if (notModels.length === 0) problems.push({ file: names, problem: 'no TF.js model.json among these files (a model is a model.json plus its .bin weight shards)' });
    throw new ModelLoadError(problems);
  }
  if (models.length > 1) {
    problems.push({ file: models.map((m) => m.f.path).join(', '), problem: 'several model.json files: drop one model at a time' });
    throw new ModelLoadError(problems);
  }
  const { f: modelFile, model, bytes } = models[0]!;
  const { shards, problems: shardProblems } = matchShards(model, modelFile.path, files);
  problems.push(...shardProblems);
  if (problems.length > 0) throw new ModelLoadError(problems);

  const shardBuffers = await Promise.all(shards.map((s) => s.file.arrayBuffer()));
  const used = new Set([modelFile, ...shards]);
  const ignored = files.filter((f) => !used.has(f) && baseName(f.path) !== CARD_FILE_NAME).map((f) => f.path);
  const input = firstInputOf(model.json);
  const dirLabel = dirName(modelFile.path).replace(/\/$/, '');
  return {
    name: card?.name ?? (dirLabel ? baseName(dirLabel) : baseName(modelFile.path).replace(/\.json$/i, '')),
    origin: 'files',
    card,
    modelJson: model.json,
    modelJsonBytes: bytes,
    shards: shardBuffers,
    shardNames: shards.map((s) => s.path),
    bytes: bytes.byteLength + shardBuffers.reduce((a, b) => a + b.byteLength, 0),
    sha256: await sha256Hex([bytes, ...shardBuffers]),
    format: model.kind,
    inputShape: input.shape,
    inputDtype: input.dtype,
    ignored,
  };
}
