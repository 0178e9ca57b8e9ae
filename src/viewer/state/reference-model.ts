/**
 * The reference model of a diagnosis on the page (the photo diagnosis's reference run, single-node
 * replays): the loaded model if the trace ran it, else the bundled sample of the trace's model name,
 * else the loaded one; and its worker payload.
 */
import type { Trace } from '../../trace/types.ts';
import type { LoadedModel } from '../load/model.ts';
import { loadSampleModel } from '../load/samples.ts';
import type { ModelPayload } from '../worker/protocol.ts';
import { getState } from './store.ts';

const samples = new Map<string, Promise<LoadedModel>>();
/** The bundled samples loaded so far (for a synchronous look-up). */
const loadedSamples = new Map<string, LoadedModel>();

/**
 * The model `trace` ran, if the page holds it now (the loaded model or a bundled sample already loaded,
 * whose sha256 is the trace's), else null. The repro bundle is cut from it.
 */
export function heldModelOf(trace: Trace): LoadedModel | null {
  const want = trace.header.model.sha256;
  const s = getState();
  if (s.model && (s.model.sha256 === want || (!want && s.model.name === trace.header.model.name))) return s.model;
  const sample = loadedSamples.get(trace.header.model.name);
  return sample && (sample.sha256 === want || !want) ? sample : null;
}

export function payloadOf(model: LoadedModel): ModelPayload {
  return model.format === 'onnx' && model.onnx
    ? { format: 'onnx', name: model.name, sha256: model.sha256, bytes: model.onnx, card: model.card }
    : { name: model.name, sha256: model.sha256, modelJson: model.modelJson, shards: model.shards, async: model.card?.execution === 'async' };
}

/** The model `trace` ran, as the page can get it; `label` names it (`models/<name>` for a sample). */
export async function referenceModel(trace: Trace): Promise<{ model: LoadedModel; label: string }> {
  const s = getState();
  const name = trace.header.model.name;
  if (s.model && s.model.sha256 === trace.header.model.sha256) return { model: s.model, label: s.model.origin === 'sample' ? `models/${s.model.name}` : s.model.name };
  const entry = s.index?.models.find((m) => m.name === name && m.ready);
  if (entry) {
    let p = samples.get(name);
    if (!p) {
      p = loadSampleModel(entry);
      samples.set(name, p);
      p.then(
        (m) => loadedSamples.set(name, m),
        () => samples.delete(name),
      );
    }
    return { model: await p, label: `models/${name}` };
  }
  if (s.model) return { model: s.model, label: s.model.name };
  throw new Error(`the trace ran "${name}", which is not a bundled sample: load that model (Model panel), then give the photo again`);
}

/** What to do when the page does not hold the model `trace` ran (the repro bundle is cut from it). */
export function missingModelReason(trace: Trace): string {
  const sha = trace.header.model.sha256;
  return `load the model the edge ran (${trace.header.model.name}${sha ? `, sha256 ${sha.slice(0, 12)}…` : ''}) in the Model panel, then open the traces again`;
}

/** The backend single-node replays run on for a reference of this format (the CLI's default). */
export function replayBackend(trace: Trace): 'cpu' | 'wasm' {
  return trace.header.model.format === 'onnx' ? 'wasm' : 'cpu';
}

/** At most this many single-node replays (the CLI's default: 24 on cpu, 256 on wasm). */
export function replayMax(backend: string): number {
  return backend === 'cpu' ? 24 : 256;
}
