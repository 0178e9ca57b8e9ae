/**
 * Everything the page does, as plain functions: load a model, choose a photo, run backends. Called
 * from event handlers (and `init()` once from main.tsx), never from effects.
 */
import { cardCompareOptions, cardPreprocess, guessPreprocess, hasImageInput, ModelLoadError, type LoadedModel } from '../load/model.ts';
import { initialSlots } from '../load/tensor-inputs.ts';
import { kindOf, type PickedFile } from '../load/dropped-files.ts';
import { fetchSampleIndex, loadSampleModel, samplePhotoUrl } from '../load/samples.ts';
import { probeBackends } from '../worker/probe.ts';
import { openTraces, whenNoTracesOpening } from './opening.ts';
import { UtilityWorker, WorkerRequestError } from '../worker/client.ts';
import { BACKENDS, backendUnsupported, type BackendName, type BackendProbe } from '../worker/protocol.ts';
import type { PreprocessSpec } from '../../trace/types.ts';
import { giveTensorFiles, tensorFilesOf } from './tensor-inputs.ts';
import { getState, setState } from './store.ts';
import { setCompareOptions } from './session.ts';
import { cancelRuns, startRuns } from './runs.ts';
import { getRemote } from '../remote/remote-state.ts';

let util: UtilityWorker | null = null;
export function utility(): UtilityWorker {
  util ??= new UtilityWorker();
  return util;
}

let initialized = false;

/** What the page opens with when the URL names nothing: a tiny sample (a run takes seconds) and a face. */
export const DEFAULT_SAMPLE = { model: 'emotion', photo: 'astronaut.png' } as const;

/**
 * `?model=<sample>&photo=<sample photo>&backends=cpu,wasm&timed=<n>&run=1`: what to open with, and
 * whether to start a run at once (a link that shows a run). Unknown names are ignored (the defaults stay).
 */
export interface StartParams {
  model: string | null;
  photo: string | null;
  backends: BackendName[] | null;
  timed: number | null;
  run: boolean;
}

export function startParams(search: string): StartParams {
  const q = new URLSearchParams(search);
  const list = q.get('backends');
  const backends = list === null ? null : list.split(/[\s,+]+/).filter((b): b is BackendName => (BACKENDS as readonly string[]).includes(b));
  const timed = Number(q.get('timed'));
  return {
    model: q.get('model'),
    photo: q.get('photo'),
    backends: backends && backends.length > 0 ? backends : null,
    timed: Number.isInteger(timed) && timed >= 1 && timed <= 50 ? timed : null,
    run: q.get('run') === '1' || q.get('run') === 'true',
  };
}

/** Start-up work, once per page (StrictMode-safe: not tied to any component). */
export function init(): void {
  if (initialized) return;
  initialized = true;
  const params = typeof location === 'undefined' ? startParams('') : startParams(location.search);
  if (params.backends) setState({ selected: params.backends });
  if (params.timed !== null) setState({ timedRuns: params.timed });
  const backends = detectBackends();
  fetchSampleIndex().then(
    (index) => {
      setState({ index });
      void openWith(params, backends);
    },
    (e: unknown) => setState({ indexError: e instanceof Error ? e.message : String(e) }),
  );
}

/**
 * Preselect a sample model and photo (the URL's, else the defaults) unless the user has already
 * chosen something; with `run=1`, start the run once the input and the backends are ready.
 */
async function openWith(params: StartParams, backends: Promise<void>): Promise<void> {
  const index = getState().index;
  if (!index) return;
  const ready = (name: string | null): string | null => (name && index.models.some((m) => m.name === name && m.ready) ? name : null);
  const model = ready(params.model) ?? ready(DEFAULT_SAMPLE.model);
  const photo = params.photo && index.photos.includes(params.photo) ? params.photo : index.photos.includes(DEFAULT_SAMPLE.photo) ? DEFAULT_SAMPLE.photo : null;
  if (params.model && model !== params.model) setState({ notice: `?model=${params.model}: no such sample model; opened ${model ?? 'none'}` });
  const untouched = getState().runs.length === 0;
  const picks: Promise<void>[] = [];
  if (model && untouched && modelSeq === 0) picks.push(selectSampleModel(model, true));
  if (photo && untouched && photoSeq === 0) picks.push(chooseSamplePhoto(photo, true));
  await Promise.all(picks);
  if (!params.run) return;
  await backends;
  await inputSettled();
  // The phone page runs through exray serve (remote/PhonePage.tsx): run=1 is for the desktop page.
  if (getRemote().phone) return;
  if (!getState().running && getState().runs.length === 0) void startRuns();
}

/** Resolves once no model is loading and the input is not being prepared. */
function inputSettled(): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      const s = getState();
      if (s.modelLoading === null && !s.inputBusy) resolve();
      else setTimeout(check, 50);
    };
    check();
  });
}

async function detectBackends(): Promise<void> {
  let inWorker: BackendProbe[];
  try {
    inWorker = await utility().probe();
  } catch (e) {
    inWorker = [];
    console.warn('exray: worker probe failed', e);
  }
  // A backend the worker cannot use may still work on the main thread (e.g. WebGL without OffscreenCanvas);
  // one it can use is not probed again.
  const onMain = await probeBackends('main', new Set(inWorker.filter((b) => b.available).map((b) => b.name)));
  const merged = onMain.map((m) => {
    const w = inWorker.find((x) => x.name === m.name);
    if (w?.available) return w;
    if (m.available) return { ...m, detail: `${m.detail} — main thread only${w ? ` (worker: ${w.detail})` : ''}` };
    return w ?? m;
  });
  const available = new Set(merged.filter((b) => b.available).map((b) => b.name));
  setState({ backends: merged, selected: getState().selected.filter((b) => available.has(b)) });
}

/** A new model, photo or pre-processing makes earlier runs incomparable: stop and drop them. */
function clearRuns(): Partial<ReturnType<typeof getState>> {
  if (getState().running) cancelRuns();
  return { runs: [], selectedRun: null, selectedNode: null, source: 'live' };
}

/** The loaded model is the page's own opening choice (DEFAULT_SAMPLE or the URL's), not one the user picked. */
let modelPreselected = false;

function adoptModel(model: LoadedModel, preselect = false): void {
  modelPreselected = preselect;
  const fromCard = cardPreprocess(model.card);
  // A model without an image input (audio frames, state tensors) has no pre-processing: its inputs are tensors.
  const image = hasImageInput(model);
  const spec = image ? (fromCard ?? guessPreprocess(model.inputShape, model.inputDtype)) : null;
  setCompareOptions({ ...cardCompareOptions(model.card), tolerance: { preset: getState().preset } });
  // Keep only the backends that can run this model (ONNX: onnxruntime-web's; wasm is its reference).
  const format = model.format === 'onnx' ? 'onnx' : 'tfjs';
  const selected = getState().selected.filter((b) => !backendUnsupported(b, format));
  setState({ model, modelLoading: null, modelProblems: [], spec, specFromCard: image && fromCard !== null, input: null, tensors: initialSlots(model.tensorInputs ?? []), selected: model.format === 'onnx' && selected.length === 0 ? ['wasm'] : selected, ...clearRuns() });
  void prepare();
}

function modelFailed(e: unknown, what: string): void {
  const problems =
    e instanceof ModelLoadError
      ? e.problems
      : [{ file: what, problem: e instanceof Error ? e.message : String(e) }];
  // The user's own model failed: the page's opening sample does not stand in for it.
  const drop = modelPreselected ? { model: null, spec: null, specFromCard: false, input: null, ...clearRuns() } : {};
  modelPreselected = false;
  setState({ modelLoading: null, modelProblems: problems, ...drop });
}

/**
 * Load a bundled sample (already loaded: nothing to do). `preselect`: the page's own choice at start,
 * dropped if the user has opened traces or started runs meanwhile.
 */
export async function selectSampleModel(name: string, preselect = false): Promise<void> {
  const s = getState();
  const entry = s.index?.models.find((m) => m.name === name);
  if (!entry) return;
  if (s.modelLoading === null && s.model?.origin === 'sample' && s.model.name === name) return;
  await selectModelFrom(name, `models/${name}`, () => loadSampleModel(entry), preselect);
}

/** Bumped by every model choice: a load that finishes after a later choice is dropped. */
let modelSeq = 0;

/** Load a model some other way (exray serve's model store) and adopt it as a sample is adopted. */
export async function selectModelFrom(label: string, file: string, load: () => Promise<LoadedModel>, preselect = false): Promise<void> {
  const seq = ++modelSeq;
  setState({ modelLoading: label, modelProblems: [] });
  try {
    const model = await load();
    if (preselect) await whenNoTracesOpening();
    if (seq !== modelSeq) return;
    if (preselect && getState().runs.length > 0) setState({ modelLoading: null });
    else adoptModel(model, preselect);
  } catch (e) {
    if (seq === modelSeq) modelFailed(e, file);
  }
}

export async function loadModelFiles(files: PickedFile[]): Promise<void> {
  const seq = ++modelSeq;
  setState({ modelLoading: files.map((f) => f.path).join(', '), modelProblems: [] });
  try {
    // The file readers (ONNX protobuf, TF.js manifests) load with the first model dropped, not with the page.
    const { modelFromFiles } = await import('../load/model-files.ts');
    const model = await modelFromFiles(files);
    if (seq === modelSeq) adoptModel(model);
  } catch (e) {
    if (seq === modelSeq) modelFailed(e, files.map((f) => f.path).join(', '));
  }
}

export function setSpec(spec: PreprocessSpec): void {
  setState({ spec, specFromCard: false, input: null, ...clearRuns() });
  void prepare();
}

/** Bumped by every photo choice: a sample photo fetched after a later choice is dropped. */
let photoSeq = 0;

export function choosePhoto(blob: Blob, name: string, sample = false): void {
  ++photoSeq;
  const old = getState().photo;
  if (old) URL.revokeObjectURL(old.url);
  setState({ photo: { blob, name, url: URL.createObjectURL(blob), sample }, input: null, inputError: null, ...clearRuns() });
  void prepare();
}

/** A bundled photo (already chosen: nothing to do); `preselect` as for selectSampleModel. */
export async function chooseSamplePhoto(name: string, preselect = false): Promise<void> {
  const now = getState().photo;
  if (now?.sample && now.name === name && !getState().inputError) return;
  const seq = ++photoSeq;
  try {
    const res = await fetch(samplePhotoUrl(name));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const blob = await res.blob();
    if (preselect) await whenNoTracesOpening();
    if (seq === photoSeq && !(preselect && getState().runs.length > 0)) choosePhoto(blob, name, true);
  } catch (e) {
    if (seq === photoSeq) setState({ inputError: `${name}: could not be fetched (${e instanceof Error ? e.message : String(e)})` });
  }
}

let prepareSeq = 0;

/** Photo + spec → the exact input tensor (in the utility worker). */
async function prepare(): Promise<void> {
  const { photo, spec } = getState();
  if (!photo || !spec) return;
  const seq = ++prepareSeq;
  setState({ inputBusy: true, inputError: null });
  try {
    const input = await utility().prepare(photo.blob, photo.name, spec);
    if (seq === prepareSeq) setState({ input, inputBusy: false });
  } catch (e) {
    if (seq !== prepareSeq) return;
    const msg = e instanceof WorkerRequestError && e.file ? e.message : `${photo.name}: ${e instanceof Error ? e.message : String(e)}`;
    setState({ input: null, inputBusy: false, inputError: msg });
  }
}

/**
 * Whatever was dropped on the page: traces are opened (with one photo: diagnosed against it, as its
 * original), else a photo becomes the input; tensor files feed the
 * model's tensor inputs (state/tensor-inputs.ts), the rest is a model.
 */
export function handleFiles(files: PickedFile[]): void {
  const traces = files.filter((f) => kindOf(f) === 'trace');
  const images = files.filter((f) => kindOf(f) === 'image');
  const tensors = tensorFilesOf(files);
  const rest = files.filter((f) => kindOf(f) === 'model' && !tensors.includes(f));
  if (tensors.length > 0) void giveTensorFiles(tensors).then((loose) => loose.length > 0 && setState({ notice: loose.join('\n') }));
  const photo = images[0];
  // Traces with one photo: the photo is their original, diagnosed against (state/photo-diagnosis.ts).
  const original = traces.length > 0 && images.length === 1 && rest.length === 0 ? photo : undefined;
  if (traces.length > 0) {
    // The replay and the diagnosis load when traces are opened, not with the page.
    const opened = openTraces(traces.map((t) => t.file));
    if (original) void opened.then(() => import('./photo-diagnosis.ts')).then(({ diagnoseAgainstPhoto }) => diagnoseAgainstPhoto(original.file, original.path));
  }
  if (rest.length > 0) void loadModelFiles(rest);
  if (photo && !original) choosePhoto(photo.file, photo.path);
}
