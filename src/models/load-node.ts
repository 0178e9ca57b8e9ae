/**
 * Load a TF.js model from a directory on disk in Node, without fetch / file:// URLs.
 *
 * The caller passes its own `tf` namespace (and so chooses the backend); this module imports only
 * types from TF.js.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { ExrayInputError } from '../errors.ts';
import { readInputBytes } from '../read-input.ts';
import { checkShards, readTfjsModelJson, type TfjsModelKind } from './manifest.ts';

export interface LoadedTfjsModel {
  model: tfjs.GraphModel | tfjs.LayersModel;
  format: TfjsModelKind;
  /** The parsed model.json as read from disk. */
  modelJson: unknown;
}

/** Whether a `.json` file looks like a TF.js model JSON (has `modelTopology` and `weightsManifest`), by a cheap read. */
async function looksLikeTfjsModelJson(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.includes('"modelTopology"') && text.includes('"weightsManifest"');
}

/**
 * The TF.js model JSON files in a directory other than model.json, whatever their names
 * (`facemesh.json` beside `facemesh.bin`), cards (`*.exray.json`, `exray.json`) excluded.
 */
export async function tfjsModelJsonsIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json') && f !== 'exray.json' && !f.endsWith('.exray.json')).sort();
  const out: string[] = [];
  for (const f of names) if (await looksLikeTfjsModelJson(path.join(dir, f))) out.push(f);
  return out;
}

/**
 * Resolve a model directory or a TF.js model JSON file (any name; its shards come from its manifest) to
 * `{ dir, modelJsonPath }`. A directory resolves to its model.json, else to its only TF.js model JSON.
 */
export async function resolveModelJsonPath(dirOrFile: string): Promise<{ dir: string; modelJsonPath: string }> {
  let st;
  try {
    st = await stat(dirOrFile);
  } catch {
    throw new ExrayInputError(dirOrFile, 'model directory or model.json does not exist');
  }
  if (st.isDirectory()) {
    const modelJsonPath = path.join(dirOrFile, 'model.json');
    if (await stat(modelJsonPath).then((s) => s.isFile(), () => false)) return { dir: dirOrFile, modelJsonPath };
    const found = await tfjsModelJsonsIn(dirOrFile);
    if (found.length === 1) return { dir: dirOrFile, modelJsonPath: path.join(dirOrFile, found[0]!) };
    if (found.length > 1) {
      throw new ExrayInputError(dirOrFile, `holds ${found.length} TF.js models (${found.slice(0, 6).join(', ')}${found.length > 6 ? ', …' : ''}): pass the model file`);
    }
    throw new ExrayInputError(modelJsonPath, 'model.json is missing (run `npm run models` to extract the sample models)');
  }
  return { dir: path.dirname(dirOrFile), modelJsonPath: dirOrFile };
}

/** File names that stand for their folder (the folder's name is the model's name, exray.json its card). */
const FOLDER_MODEL_FILES = new Set(['model.json', 'model.onnx']);

/**
 * A model's name: the directory's name for a directory or its model.json / model.onnx, else the file
 * name without its extension (`facemesh` for `…/models/facemesh.json`).
 */
export async function modelNameOf(model: string): Promise<string> {
  const st = await stat(model).catch(() => null);
  if (st?.isDirectory()) return path.basename(path.resolve(model));
  const base = path.basename(model);
  if (FOLDER_MODEL_FILES.has(base)) return path.basename(path.resolve(path.dirname(model)));
  return base.replace(/\.(json|onnx)$/i, '');
}

/**
 * Where a model's card is, or null: a card given explicitly (`--card`); else `<stem>.exray.json` beside
 * a model file (`facemesh.exray.json` for `facemesh.json`); else the folder's `exray.json`, unless it
 * names another model file (its `modelFile`).
 */
export async function modelCardPath(model: string, explicit?: string): Promise<string | null> {
  if (explicit) return explicit;
  const isFile = (p: string): Promise<boolean> => stat(p).then((s) => s.isFile(), () => false);
  const st = await stat(model).catch(() => null);
  let dir = model;
  let file: string | null = null;
  if (!st?.isDirectory()) {
    dir = path.dirname(model);
    file = path.basename(model);
  } else if (!(await isFile(path.join(dir, 'exray.json')))) {
    // A folder with one model under its own name (`facemesh.json`): that model's card.
    const found = await tfjsModelJsonsIn(dir);
    if (found.length === 1) file = found[0]!;
  }
  if (file) {
    const stemCard = path.join(dir, `${file.replace(/\.(json|onnx)$/i, '')}.exray.json`);
    if (await isFile(stemCard)) return stemCard;
  }
  const folderCard = path.join(dir, 'exray.json');
  if (!(await isFile(folderCard))) return null;
  if (file && !FOLDER_MODEL_FILES.has(file)) {
    const named = await readFile(folderCard, 'utf8').then((t) => (JSON.parse(t) as { modelFile?: unknown }).modelFile, () => undefined);
    if (typeof named === 'string' && named !== file) return null;
  }
  return folderCard;
}

/**
 * model.json and its weight shards, concatenated in manifest order, from `dirOrFile` (a directory
 * holding model.json, or the model.json path). Shard sizes are checked against the manifest before
 * reading; a shard that changes size while read is an ExrayInputError naming it.
 */
export async function readTfjsModelBytes(dirOrFile: string): Promise<{ modelJsonPath: string; parsed: Awaited<ReturnType<typeof readTfjsModelJson>>["model"]; weightData: Uint8Array<ArrayBuffer> }> {
  const { dir, modelJsonPath } = await resolveModelJsonPath(dirOrFile);
  const { model: parsed } = await readTfjsModelJson(modelJsonPath);
  const shards = await checkShards(dir, parsed, modelJsonPath);
  const weightData = new Uint8Array(shards.reduce((a, s) => a + s.bytes, 0));
  let offset = 0;
  for (const s of shards) {
    const buf = await readInputBytes(s.abs);
    if (buf.byteLength !== s.bytes) throw new ExrayInputError(s.abs, `changed size while reading (${s.bytes} -> ${buf.byteLength} bytes)`);
    weightData.set(buf, offset);
    offset += buf.byteLength;
  }
  return { modelJsonPath, parsed, weightData };
}

/**
 * Read model.json and its weight shards from `dirOrFile` (a directory holding model.json, or the
 * model.json path) and load it with the given TF.js namespace as a GraphModel or LayersModel.
 * Every input problem is an ExrayInputError naming the file.
 */
export async function loadTfjsModelFromDir(dirOrFile: string, tf: typeof tfjs): Promise<LoadedTfjsModel> {
  const { modelJsonPath, parsed, weightData } = await readTfjsModelBytes(dirOrFile);

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
    if (parsed.kind === 'tfjs-graph') checkGraphOps(model as tfjs.GraphModel, modelJsonPath, tf);
    return { model, format: parsed.kind, modelJson: json };
  } catch (e) {
    if (e instanceof ExrayInputError) throw e;
    const unknown = /^Unknown op '([^']*)'/.exec((e as Error).message);
    if (unknown) throw new ExrayInputError(modelJsonPath, `op ${unknown[1]} is not supported by TF.js ${tf.version_core}`);
    throw new ExrayInputError(modelJsonPath, `TF.js could not build the ${parsed.kind} model: ${(e as Error).message}`);
  }
}

/**
 * TF.js maps a graph's ops when it loads the model but only throws for an op it does not know when a
 * run reaches it ("Unknown op 'X'. File an issue at …", naming no file or node): refuse such an op
 * at load, naming the node.
 */
function checkGraphOps(model: tfjs.GraphModel, modelJsonPath: string, tf: typeof tfjs): void {
  type MappedNode = { name: string; op: string; category?: string };
  type MappedGraph = { nodes?: Record<string, MappedNode>; functions?: Record<string, MappedGraph> };
  const graph = (model as unknown as { executor?: { graph?: MappedGraph } }).executor?.graph;
  if (!graph) return;
  const check = (g: MappedGraph, where: string): void => {
    for (const n of Object.values(g.nodes ?? {})) {
      // A registered custom op maps to category 'custom'; an op TF.js does not know maps to none.
      if (n.category === undefined) throw new ExrayInputError(modelJsonPath, `op ${n.op} (node ${n.name}${where}) is not supported by TF.js ${tf.version_core}`);
    }
  };
  check(graph, '');
  for (const [name, f] of Object.entries(graph.functions ?? {})) check(f, ` of function ${name}`);
}
