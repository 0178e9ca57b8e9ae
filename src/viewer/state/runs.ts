/**
 * Running backends: the cpu reference first (once per model + input), then each selected edge backend,
 * one after the other (two cores: parallel runs would only distort each other's timings), each in a
 * fresh worker, or on the main thread where only that works.
 */
import { backendUnsupported, type BackendName, type BackendOptions, type ModelPayload, type RunJob } from '../worker/protocol.ts';
import { runJobInWorker, runJobOnMainThread, type JobHandle } from '../worker/client.ts';
import { hasImageInput } from '../load/model.ts';
import { runInput, tensorsProblem } from '../load/tensor-inputs.ts';
import { RunState } from './run-state.ts';
import { follow } from './session.ts';
import { getState, setState, touch } from './store.ts';

export const REFERENCE_STREAM = 'cpu (reference)';
/** ONNX models: the reference is onnxruntime-web on its wasm execution provider. */
export const ONNX_REFERENCE_STREAM = 'wasm (reference)';

/** Display name of a backend configuration: `webgl`, `webgl f16`, `wasm no-simd`. */
export function runName(backend: BackendName, o: BackendOptions): string {
  const parts: string[] = [backend];
  if (backend === 'webgl') {
    if (o.webglF16) parts.push('f16');
    if (!o.webglPack) parts.push('no-pack');
  }
  if (backend === 'wasm') {
    if (!o.wasmThreads) parts.push('no-threads');
    if (!o.wasmSimd) parts.push('no-simd');
  }
  return parts.join(' ');
}

let current: JobHandle | null = null;
let cancelled = false;

export function canRun(): string | null {
  const s = getState();
  if (s.running) return 'a run is in progress';
  if (!s.model) return 'load a model first';
  if (hasImageInput(s.model)) {
    if (!s.photo) return 'choose a photo first';
    if (s.inputBusy) return 'preparing the input…';
    if (!s.input) return s.inputError ?? 'the input is not ready';
  }
  const tensors = tensorsProblem(s.model.tensorInputs, s.tensors);
  if (tensors) return tensors;
  if (s.selected.length === 0) return 'select at least one backend';
  const format = s.model.format === 'onnx' ? 'onnx' : 'tfjs';
  const bad = s.selected.find((b) => backendUnsupported(b, format));
  if (bad) return backendUnsupported(bad, format);
  return null;
}

export async function startRuns(): Promise<void> {
  const why = canRun();
  if (why) {
    setState({ notice: why });
    return;
  }
  const s = getState();
  const model = s.model!;
  const onnx = model.format === 'onnx' && model.onnx ? model.onnx : null;
  const payload: ModelPayload = onnx
    ? { format: 'onnx', name: model.name, sha256: model.sha256, bytes: onnx, card: model.card }
    : {
        name: model.name,
        sha256: model.sha256,
        modelJson: model.modelJson,
        shards: model.shards,
        async: model.card?.execution === 'async',
      };
  const input = runInput(model, hasImageInput(model) ? s.input : null, s.tensors);
  // The reference: TF.js cpu, or onnxruntime-web wasm for ONNX models.
  const refBackend: BackendName = onnx ? 'wasm' : 'cpu';
  const refStream = onnx ? ONNX_REFERENCE_STREAM : REFERENCE_STREAM;
  // A session opened from `exray serve` (RunState.remote) is another model's or device's: not kept.
  const runs = s.source === 'live' ? s.runs.filter((r) => !r.remote) : [];
  const edges: { run: RunState; job: RunJob }[] = [];
  const base = { capture: s.capture, runs: s.timedRuns, warmup: 1 };
  let refJob: { run: RunState; job: RunJob } | null = null;
  let ref = runs.find((r) => r.role === 'reference' && r.status === 'done');
  if (!ref) {
    for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.role === 'reference') runs.splice(i, 1);
    ref = new RunState(refStream, 'reference', refBackend, where(refBackend));
    runs.unshift(ref);
    refJob = { run: ref, job: { ...base, stream: refStream, backend: refBackend, options: s.options, label: 'reference' } };
  }
  for (const b of s.selected) {
    if (b === 'cpu' && !onnx) continue; // the reference is the cpu run
    const name = runName(b, s.options);
    const old = runs.findIndex((r) => r.stream === name);
    const run = new RunState(name, 'edge', b, where(b));
    if (old >= 0) runs[old] = run;
    else runs.push(run);
    edges.push({ run, job: { ...base, stream: name, backend: b, options: s.options, label: name } });
  }
  // The reference runs first. Running the first edge before it (its rows from the first second, the
  // reference filling in their comparison columns) works (session.ts compares in either order), but
  // measured on MobileNetV2 it blocks the main thread for up to ~1–2 s while the reference streams
  // against a finished edge (main-thread long tasks of 0.7–0.9 s under load, not yet attributed), so
  // it is not the default until that is found.
  const jobs = refJob ? [refJob, ...edges] : edges;
  cancelled = false;
  setState({ runs, running: true, source: 'live', notice: null });
  for (const { run, job } of jobs) {
    if (cancelled) {
      run.fail('cancelled');
      continue;
    }
    run.begin();
    touch();
    const start = run.where === 'main thread' ? runJobOnMainThread : runJobInWorker;
    current = start(payload, input, job, (t) => follow(t), (phase) => {
      run.setPhase(phase, run.status === 'queued' ? 'starting' : run.status);
      touch();
    });
    try {
      await current.done;
    } catch (e) {
      if (run.status !== 'failed') run.fail(e instanceof Error ? e.message : String(e));
      touch();
    }
    current = null;
  }
  setState({ running: false });
}

export function cancelRuns(): void {
  cancelled = true;
  current?.cancel();
  for (const r of getState().runs) if (r.status !== 'done' && r.status !== 'failed') r.fail('cancelled');
  setState({ running: false });
}

/** `?thread=main` runs every backend on the page's main thread (the fallback path, for debugging). */
const forceMain = typeof location !== 'undefined' && new URLSearchParams(location.search).get('thread') === 'main';

function where(b: BackendName): string {
  const probe = getState().backends?.find((p) => p.name === b);
  return forceMain || probe?.where === 'main' ? 'main thread' : 'worker';
}
