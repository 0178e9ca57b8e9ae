/**
 * The page `exray trace --browser` drives: it fetches the model and input the Node side serves,
 * runs the same traced job the viewer runs (viewer/worker), folds the event stream into a trace and
 * uploads the `.exray` bytes. Nothing here knows about Playwright.
 */
import { runJobInWorker, runJobOnMainThread } from '../viewer/worker/client.ts';
import type { ModelPayload, InputPayload, RunJob } from '../viewer/worker/protocol.ts';
import { TraceBuilder } from '../trace/events.ts';
import { encodeTrace } from '../trace/file.ts';
import { RUNNER_PREFIX, type RunnerRequest, type RunnerResult } from './protocol.ts';

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

async function run(req: RunnerRequest): Promise<RunnerResult> {
  const status = document.getElementById('status');
  const say = (s: string): void => {
    if (status) status.textContent = s;
  };
  try {
    const modelJson = (await (await fetchOk(`${RUNNER_PREFIX}model/${req.model.modelFile}`)).json()) as Record<string, unknown>;
    const manifest = (modelJson.weightsManifest as { paths: string[] }[] | undefined) ?? [];
    const shards: ArrayBuffer[] = [];
    for (const group of manifest) for (const p of group.paths) shards.push(await (await fetchOk(`${RUNNER_PREFIX}model/${p}`)).arrayBuffer());
    const model: ModelPayload = { name: req.model.name, sha256: req.model.sha256, modelJson, shards, async: req.model.async };
    const buf = fromBase64(req.input.base64);
    const input: InputPayload = {
      data: req.input.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf),
      shape: req.input.shape,
      dtype: req.input.dtype,
      ...(req.input.source ? { source: req.input.source } : {}),
      ...(req.input.preprocess ? { preprocess: req.input.preprocess } : {}),
    };
    const job: RunJob = { stream: req.backend, backend: req.backend, options: req.options, label: req.label, capture: req.capture, runs: req.runs, warmup: req.warmup };
    const builder = new TraceBuilder({ source: `browser ${req.backend}` });
    const start = req.where === 'worker' ? runJobInWorker : runJobOnMainThread;
    const handle = start(model, input, job, (t) => t.subscribe((m) => builder.push(m.event)), say);
    await handle.done;
    // Let the last queued events drain from the worker.
    await new Promise((r) => setTimeout(r, 50));
    const bytes = encodeTrace(builder.finish());
    const up = await fetch(`${RUNNER_PREFIX}result`, { method: 'POST', body: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
    if (!up.ok) throw new Error(`upload failed: HTTP ${up.status}`);
    say(`done: ${bytes.length} bytes`);
    return { ok: true, bytes: bytes.length };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    say(`failed: ${message}`);
    return { ok: false, error: message };
  }
}

(globalThis as { exrayRun?: typeof run }).exrayRun = run;
document.body.dataset.ready = 'true';
