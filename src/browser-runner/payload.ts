/** The model and input the Node side serves, as the viewer's job payloads. */
import type { InputPayload, ModelPayload } from '../viewer/worker/protocol.ts';
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

export async function fetchModel(m: RunnerRequest['model']): Promise<ModelPayload> {
  const modelJson = (await (await fetchOk(`${RUNNER_PREFIX}model/${m.modelFile}`)).json()) as Record<string, unknown>;
  const manifest = (modelJson.weightsManifest as { paths: string[] }[] | undefined) ?? [];
  const shards: ArrayBuffer[] = [];
  for (const group of manifest) for (const p of group.paths) shards.push(await (await fetchOk(`${RUNNER_PREFIX}model/${p}`)).arrayBuffer());
  return { name: m.name, sha256: m.sha256, modelJson, shards, async: m.async };
}

export function inputPayload(i: RunnerRequest['input']): InputPayload {
  const buf = fromBase64(i.base64);
  return {
    data: i.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf),
    shape: i.shape,
    dtype: i.dtype,
    ...(i.source ? { source: i.source } : {}),
    ...(i.preprocess ? { preprocess: i.preprocess } : {}),
  };
}
