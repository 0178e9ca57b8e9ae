/** The bundled sample models and photos (`/models/index.json`, written by the exray-models Vite plugin). */
import type { ModelCard } from '../../models/card-schema.ts';
import { parseTfjsModelJson } from '../../models/manifest-parse.ts';
import { firstInputOf, ModelLoadError, sha256Hex, type LoadedModel } from './model.ts';
import { SAMPLE_INDEX_URL, type SampleIndex, type SampleModelEntry } from './sample-index.ts';

export async function fetchSampleIndex(): Promise<SampleIndex> {
  const res = await fetch(SAMPLE_INDEX_URL);
  if (!res.ok) throw new Error(`${SAMPLE_INDEX_URL}: HTTP ${res.status}`);
  return (await res.json()) as SampleIndex;
}

/** Fetches one file of a model (`url`), named `file` in errors. */
export type FetchModelFile = (url: string, file: string) => Promise<ArrayBuffer>;

const fetchBytes: FetchModelFile = async (url, file) => {
  const res = await fetch(url);
  if (!res.ok) throw new ModelLoadError([{ file, problem: `could not be fetched (HTTP ${res.status})` }]);
  return res.arrayBuffer();
};

/** A model listed somewhere with its files (a bundled sample, or one in exray serve's model store). */
export interface ListedModel {
  name: string;
  origin: LoadedModel['origin'];
  format: LoadedModel['format'];
  card: ModelCard | null;
  /** model.json then every weight shard in manifest order, or the .onnx file; relative to `base`. */
  files: string[];
  bytes: number;
  /** URL prefix of the files (ends with `/`). */
  base: string;
}

/** Load a listed model file by file through `fetchFile` (the samples' and the server store's one code path). */
export async function loadListedModel(entry: ListedModel, fetchFile: FetchModelFile = fetchBytes, onProgress?: (loaded: number, total: number) => void): Promise<LoadedModel> {
  const [modelFile, ...shardFiles] = entry.files;
  const base = entry.base;
  if (!modelFile) throw new ModelLoadError([{ file: base, problem: 'no model file listed' }]);
  if (entry.format === 'onnx') {
    const bytes = await fetchFile(base + modelFile, base + modelFile);
    onProgress?.(bytes.byteLength, entry.bytes);
    // The ONNX reader (protobuf) loads with the first ONNX sample, not with the page.
    const { onnxLoadedModel } = await import('./onnx-model.ts');
    return onnxLoadedModel(bytes, { name: entry.name, origin: entry.origin, card: entry.card, file: base + modelFile });
  }
  const jsonBytes = await fetchFile(base + modelFile, base + modelFile);
  let loaded = jsonBytes.byteLength;
  onProgress?.(loaded, entry.bytes);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (e) {
    throw new ModelLoadError([{ file: base + modelFile, problem: `is not valid JSON (${String(e)})` }]);
  }
  const model = parseTfjsModelJson(json, base + modelFile);
  const shards: ArrayBuffer[] = [];
  for (const f of shardFiles) {
    const b = await fetchFile(base + f, base + f);
    shards.push(b);
    loaded += b.byteLength;
    onProgress?.(loaded, entry.bytes);
  }
  const input = firstInputOf(model.json);
  return {
    name: entry.name,
    origin: entry.origin,
    card: entry.card,
    modelJson: model.json,
    modelJsonBytes: jsonBytes,
    shards,
    shardNames: shardFiles,
    bytes: loaded,
    sha256: await sha256Hex([jsonBytes, ...shards]),
    format: model.kind,
    inputShape: input.shape,
    inputDtype: input.dtype,
    ignored: [],
  };
}

export async function loadSampleModel(entry: SampleModelEntry, onProgress?: (loaded: number, total: number) => void): Promise<LoadedModel> {
  if (!entry.ready) throw new ModelLoadError([{ file: `models/${entry.name}`, problem: entry.problem ?? 'model files are missing' }]);
  const listed: ListedModel = { name: entry.name, origin: 'sample', format: entry.card.format, card: entry.card, files: entry.files, bytes: entry.bytes, base: `models/${entry.name}/` };
  return loadListedModel(listed, fetchBytes, onProgress);
}

export function samplePhotoUrl(name: string): string {
  return `samples/${encodeURIComponent(name)}`;
}
