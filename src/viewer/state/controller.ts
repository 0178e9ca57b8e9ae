/**
 * Everything the page does, as plain functions: load a model, choose a photo, run backends. Called
 * from event handlers (and `init()` once from main.tsx), never from effects.
 */
import { cardCompareOptions, cardPreprocess, guessPreprocess, hasImageInput, ModelLoadError, type LoadedModel } from '../load/model.ts';
import { initialSlots } from '../load/tensor-inputs.ts';
import { modelFromFiles } from '../load/model-files.ts';
import { kindOf, type PickedFile } from '../load/dropped-files.ts';
import { fetchSampleIndex, loadSampleModel, samplePhotoUrl } from '../load/samples.ts';
import { probeBackends } from '../worker/probe.ts';
import { UtilityWorker, WorkerRequestError } from '../worker/client.ts';
import { backendUnsupported, type BackendProbe } from '../worker/protocol.ts';
import type { PreprocessSpec } from '../../trace/types.ts';
import { openTraceFiles } from './trace-files.ts';
import { diagnoseAgainstPhoto } from './photo-diagnosis.ts';
import { giveTensorFiles, tensorFilesOf } from './tensor-inputs.ts';
import { getState, setState } from './store.ts';
import { setCompareOptions } from './session.ts';
import { cancelRuns } from './runs.ts';

let util: UtilityWorker | null = null;
export function utility(): UtilityWorker {
  util ??= new UtilityWorker();
  return util;
}

let initialized = false;

/** Start-up work, once per page (StrictMode-safe: not tied to any component). */
export function init(): void {
  if (initialized) return;
  initialized = true;
  fetchSampleIndex().then(
    (index) => setState({ index }),
    (e: unknown) => setState({ indexError: e instanceof Error ? e.message : String(e) }),
  );
  void detectBackends();
}

async function detectBackends(): Promise<void> {
  let inWorker: BackendProbe[];
  try {
    inWorker = await utility().probe();
  } catch (e) {
    inWorker = [];
    console.warn('exray: worker probe failed', e);
  }
  // A backend the worker cannot use may still work on the main thread (e.g. WebGL without OffscreenCanvas).
  const onMain = await probeBackends('main');
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

function adoptModel(model: LoadedModel): void {
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
  setState({ modelLoading: null, modelProblems: problems });
}

export async function selectSampleModel(name: string): Promise<void> {
  const entry = getState().index?.models.find((m) => m.name === name);
  if (!entry) return;
  await selectModelFrom(name, `models/${name}`, () => loadSampleModel(entry));
}

/** Load a model some other way (exray serve's model store) and adopt it as a sample is adopted. */
export async function selectModelFrom(label: string, file: string, load: () => Promise<LoadedModel>): Promise<void> {
  setState({ modelLoading: label, modelProblems: [] });
  try {
    adoptModel(await load());
  } catch (e) {
    modelFailed(e, file);
  }
}

export async function loadModelFiles(files: PickedFile[]): Promise<void> {
  setState({ modelLoading: files.map((f) => f.path).join(', '), modelProblems: [] });
  try {
    adoptModel(await modelFromFiles(files));
  } catch (e) {
    modelFailed(e, files.map((f) => f.path).join(', '));
  }
}

export function setSpec(spec: PreprocessSpec): void {
  setState({ spec, specFromCard: false, input: null, ...clearRuns() });
  void prepare();
}

export function choosePhoto(blob: Blob, name: string): void {
  const old = getState().photo;
  if (old) URL.revokeObjectURL(old.url);
  setState({ photo: { blob, name, url: URL.createObjectURL(blob) }, input: null, inputError: null, ...clearRuns() });
  void prepare();
}

export async function chooseSamplePhoto(name: string): Promise<void> {
  try {
    const res = await fetch(samplePhotoUrl(name));
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    choosePhoto(await res.blob(), name);
  } catch (e) {
    setState({ inputError: `${name}: could not be fetched (${e instanceof Error ? e.message : String(e)})` });
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
    const opened = openTraceFiles(traces.map((t) => t.file));
    if (original) void opened.then(() => diagnoseAgainstPhoto(original.file, original.path));
  }
  if (rest.length > 0) void loadModelFiles(rest);
  if (photo && !original) choosePhoto(photo.file, photo.path);
}
