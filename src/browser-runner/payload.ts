/** The model and input the Node side serves, as the viewer's job payloads. */
import type { InputPayload, ModelPayload, OnnxModelPayload, TfjsModelPayload } from '../viewer/worker/protocol.ts';
import { RUNNER_PREFIX, type RunnerRequest } from './protocol.ts';

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

function fromBase64(b64: string): ArrayBuffer {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

/** The model the request names: an ONNX file, or a TF.js model.json and its shards. */
export async function fetchAnyModel(m: RunnerRequest['model']): Promise<ModelPayload> {
  return m.format === 'onnx' ? fetchOnnxModel(m) : fetchModel(m);
}

export async function fetchOnnxModel(m: RunnerRequest['model']): Promise<OnnxModelPayload> {
  const bytes = await (await fetchOk(`${RUNNER_PREFIX}model/${m.modelFile}`)).arrayBuffer();
  return { format: 'onnx', name: m.name, sha256: m.sha256, bytes, card: m.card ?? null };
}

export async function fetchModel(m: RunnerRequest['model']): Promise<TfjsModelPayload> {
  const modelJson = (await (await fetchOk(`${RUNNER_PREFIX}model/${m.modelFile}`)).json()) as Record<string, unknown>;
  const manifest = (modelJson.weightsManifest as { paths: string[] }[] | undefined) ?? [];
  const shards: ArrayBuffer[] = [];
  for (const group of manifest) for (const p of group.paths) shards.push(await (await fetchOk(`${RUNNER_PREFIX}model/${p}`)).arrayBuffer());
  return { name: m.name, sha256: m.sha256, modelJson, shards, async: m.async };
}

export function inputPayload(i: RunnerRequest['input']): InputPayload {
  const buf = fromBase64(i.base64);
  return {
    ...(i.name ? { name: i.name } : {}),
    ...(i.others ? { others: i.others.map((o) => ({ name: o.name, shape: o.shape, dtype: o.dtype, data: o.dtype === 'float32' ? new Float32Array(fromBase64(o.base64)) : new Int32Array(fromBase64(o.base64)) })) } : {}),
    data: i.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf),
    shape: i.shape,
    dtype: i.dtype,
    ...(i.source ? { source: i.source } : {}),
    ...(i.preprocess ? { preprocess: i.preprocess } : {}),
  };
}
