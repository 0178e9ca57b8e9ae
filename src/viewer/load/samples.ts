/** The bundled sample models and photos (`/models/index.json`, written by the exray-models Vite plugin). */
import { parseTfjsModelJson } from '../../models/manifest-parse.ts';
import { firstInputOf, ModelLoadError, sha256Hex, type LoadedModel } from './model.ts';
import { onnxLoadedModel } from './onnx-model.ts';
import { SAMPLE_INDEX_URL, type SampleIndex, type SampleModelEntry } from './sample-index.ts';

export async function fetchSampleIndex(): Promise<SampleIndex> {
  const res = await fetch(SAMPLE_INDEX_URL);
  if (!res.ok) throw new Error(`${SAMPLE_INDEX_URL}: HTTP ${res.status}`);
  return (await res.json()) as SampleIndex;
}

async function fetchBytes(url: string, file: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new ModelLoadError([{ file, problem: `could not be fetched (HTTP ${res.status})` }]);
  return res.arrayBuffer();
}

export async function loadSampleModel(entry: SampleModelEntry, onProgress?: (loaded: number, total: number) => void): Promise<LoadedModel> {
  if (!entry.ready) throw new ModelLoadError([{ file: `models/${entry.name}`, problem: entry.problem ?? 'model files are missing' }]);
  const [modelFile, ...shardFiles] = entry.files;
  if (!modelFile) throw new ModelLoadError([{ file: `models/${entry.name}`, problem: 'no model file listed' }]);
  const base = `models/${entry.name}/`;
  if (entry.card.format === 'onnx') {
    const bytes = await fetchBytes(base + modelFile, base + modelFile);
    onProgress?.(bytes.byteLength, entry.bytes);
    return onnxLoadedModel(bytes, { name: entry.name, origin: 'sample', card: entry.card, file: base + modelFile });
  }
  const jsonBytes = await fetchBytes(base + modelFile, base + modelFile);
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
    const b = await fetchBytes(base + f, base + f);
    shards.push(b);
    loaded += b.byteLength;
    onProgress?.(loaded, entry.bytes);
  }
  const input = firstInputOf(model.json);
  return {
    name: entry.name,
    origin: 'sample',
    card: entry.card,
    modelJson: model.json,
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

export function samplePhotoUrl(name: string): string {
  return `samples/${encodeURIComponent(name)}`;
}
