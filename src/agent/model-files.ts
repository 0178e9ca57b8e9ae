/**
 * A model's files as the agent can get them inside the app, and its identity hash (the sha256 a trace
 * records: model.json's bytes then every shard in manifest order; or the .onnx bytes), so the desktop
 * finds the same model, or receives it once (the upload zip of src/transport/models-api.ts).
 *
 * TF.js: a GraphModel remembers the URL it was loaded from (`modelUrl`): model.json and its shards are
 * fetched again from there (usually from the browser's cache), so a model the server bundles is
 * recognised by its hash. Otherwise (a LayersModel, an IOHandler, a model built in code) the model is
 * serialised with `model.save(tf.io.withSaveHandler(...))` into one model.json + one `weights.bin`:
 * a stable identity of its own, uploaded under that hash.
 */
import { zipSync, type Zippable } from 'fflate';
import { sha256Hex } from '../trace/sha256.ts';
import type { ModelFormat } from '../trace/types.ts';

export interface ModelFiles {
  name: string;
  format: ModelFormat;
  sha256: string;
  /** In load order: model.json then its shards, or the one `model.onnx`. */
  files: { name: string; bytes: Uint8Array }[];
  /** How the files were obtained, for the trace's warnings. */
  how: string;
}

/** Models bigger than this are identified but not uploaded from inside an app. */
export const MAX_AGENT_UPLOAD_BYTES = 512 * 1024 * 1024;

const SHARD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type Fetch = (url: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

interface SavedArtifacts {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: unknown;
  userDefinedMetadata?: unknown;
  modelInitializer?: unknown;
  trainingConfig?: unknown;
  weightSpecs?: unknown[];
  weightData?: ArrayBuffer | ArrayBuffer[];
}

function nameFromUrl(url: string): string {
  const parts = url.split(/[?#]/)[0]!.split('/').filter(Boolean);
  const file = parts[parts.length - 1] ?? 'model';
  const dir = parts[parts.length - 2];
  const base = /^model\.json$/i.test(file) && dir ? dir : file.replace(/\.json$/i, '');
  return base.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'model';
}

async function fetchBytes(fetchFn: Fetch, url: string): Promise<Uint8Array> {
  const r = await fetchFn(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** model.json at `url` and its shards, fetched again. */
export async function tfjsFilesFromUrl(url: string, format: ModelFormat, fetchFn: Fetch, base?: string): Promise<ModelFiles> {
  const abs = new URL(url, base).href;
  const json = await fetchBytes(fetchFn, abs);
  let manifest: { paths?: unknown }[];
  try {
    manifest = (JSON.parse(new TextDecoder().decode(json)) as { weightsManifest?: { paths?: unknown }[] }).weightsManifest ?? [];
  } catch {
    throw new Error(`${abs}: not JSON`);
  }
  const files = [{ name: 'model.json', bytes: json }];
  let total = json.byteLength;
  for (const group of manifest) {
    for (const p of Array.isArray(group.paths) ? group.paths : []) {
      if (typeof p !== 'string' || !SHARD_NAME.test(p) || p === 'model.json') throw new Error(`${abs} names the shard ${JSON.stringify(String(p)).slice(0, 80)}: only plain names next to model.json are fetched`);
      const bytes = await fetchBytes(fetchFn, new URL(p, abs).href);
      total += bytes.byteLength;
      if (total > MAX_AGENT_UPLOAD_BYTES) throw new Error(`${abs}: the model is over ${MAX_AGENT_UPLOAD_BYTES / 2 ** 20} MiB`);
      files.push({ name: p, bytes });
    }
  }
  return { name: nameFromUrl(abs), format, sha256: await sha256Hex(files.map((f) => f.bytes)), files, how: `files fetched again from ${abs}` };
}

function concat(parts: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  const list = parts === undefined ? [] : Array.isArray(parts) ? parts : [parts];
  const out = new Uint8Array(list.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of list) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/** The model serialised by TF.js itself: one model.json and one weights.bin. */
export async function tfjsFilesFromSave(model: { save?: (h: unknown) => Promise<unknown> }, withSaveHandler: (fn: (a: unknown) => Promise<unknown>) => unknown, format: ModelFormat, name: string): Promise<ModelFiles> {
  if (typeof model.save !== 'function') throw new Error('the model cannot be saved (no save method)');
  let saved: SavedArtifacts | null = null;
  await model.save(
    withSaveHandler(async (a) => {
      saved = a as SavedArtifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved as SavedArtifacts | null;
  if (!a || a.modelTopology === undefined) throw new Error('TF.js saved no model topology');
  const weights = concat(a.weightData);
  if (weights.byteLength > MAX_AGENT_UPLOAD_BYTES) throw new Error(`the model is over ${MAX_AGENT_UPLOAD_BYTES / 2 ** 20} MiB`);
  const modelJson: Record<string, unknown> = {
    format: a.format ?? (format === 'tfjs-graph' ? 'graph-model' : 'layers-model'),
    generatedBy: a.generatedBy ?? 'exray agent',
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
  };
  for (const k of ['signature', 'userDefinedMetadata', 'modelInitializer', 'trainingConfig'] as const) if (a[k] !== undefined) modelJson[k] = a[k];
  const json = new TextEncoder().encode(JSON.stringify(modelJson));
  const files = [
    { name: 'model.json', bytes: json },
    { name: 'weights.bin', bytes: weights },
  ];
  return { name, format, sha256: await sha256Hex(files.map((f) => f.bytes)), files, how: 'serialised by TF.js (model.save): one model.json + weights.bin' };
}

/** The upload zip (src/server/model-zip.ts reads it): the files under their names, weights stored. */
export function zipModelFiles(m: ModelFiles): Uint8Array {
  const z: Zippable = {};
  for (const f of m.files) z[f.name] = [f.bytes, { level: /\.json$/.test(f.name) ? 6 : 0 }];
  return zipSync(z);
}
