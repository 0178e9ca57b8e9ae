/**
 * "Diagnose against the original photo": the page's `exray diagnose <edge.exray> --image <photo>`.
 * The steps are the CLI's, through the same pure functions (src/diagnose/photo.ts):
 *
 * 1. the spec: the trace's recorded pre-processing, else the card's (`photoSpec`);
 * 2. in the utility worker: decode the photo, the canonical pipeline and the input search against the
 *    edge's recorded input (`fitEdgeInput`);
 * 3. the reference model (the loaded model when it is the one the trace ran, else the bundled sample of
 *    the trace's model name, else the loaded model with a warning) runs once on the canonical input in
 *    a fresh trace worker: TF.js cpu (onnxruntime-web wasm for ONNX), `tensors` capture, one timed run;
 * 4. `diagnosisComparison`; for a `tensors` trace, single-node replays of `selectReplayNodes` (as many
 *    as the CLI: 24 on cpu, 256 on wasm) in another fresh trace worker on the same backend, fed with
 *    the edge's recorded inputs (worker/replay-job.ts: the CLI's replay code); then `concludeDiagnosis`
 *    with the replays and the built-in and the user's assertions: own vs inherited error, `kernel`.
 *
 * The reference run joins the session as its reference when it has none (one opened edge trace), so
 * the summary, error chart and node table compare against it too.
 */
import type { Comparison } from '../../compare/index.ts';
import { concludeDiagnosis, diagnosisComparison, modelMismatchWarning, photoSpec, selectReplayNodes, weightStorageOf, type Diagnosis, type WeightStorage } from '../../diagnose/index.ts';
import type { ModelCard } from '../../models/card-schema.ts';
import type { PreprocessSpec, Trace } from '../../trace/types.ts';
import type { ReplayResult } from '../../instrument/common.ts';
import { replayInWorker, runJobInWorker, type JobHandle, type ReplayHandle } from '../worker/client.ts';
import type { BackendName, FittedInput, RunJob } from '../worker/protocol.ts';
import { utility } from './controller.ts';
import { RunState } from './run-state.ts';
import { replaysDoneByPhotoDiagnosis } from './diagnosis.ts';
import { payloadOf, referenceModel, replayMax } from './reference-model.ts';
import { recompareAll, referenceRun } from './session.ts';
import { getState, setState, touch } from './store.ts';
import { userAssertions } from './user-assertions.ts';

export const PHOTO_REFERENCE_STREAM = 'reference (canonical input)';

export interface PhotoDiagnosis {
  /** The edge run's stream and trace. */
  stream: string;
  edge: Trace;
  photoName: string;
  status: 'running' | 'done' | 'failed';
  phase: string;
  error: string | null;
  /** Which model the reference ran (`models/<name>` or the loaded model's name). */
  model: string | null;
  spec: PreprocessSpec | null;
  card: ModelCard | null;
  fitted: FittedInput | null;
  ref: RunState | null;
  comparison: Comparison | null;
  referenceBackend: string;
  edgeWeights: WeightStorage | null;
  /** Single-node replays on the reference backend (null: none run: not a `tensors` trace, or nothing to replay). */
  replays: ReplayResult[] | null;
  warnings: string[];
  /** Wall time per step, ms (`total` once done). */
  timings: Record<string, number>;
}

let current: PhotoDiagnosis | null = null;
/** The reference run or the replays in flight (a new diagnosis stops them). */
let running: JobHandle | ReplayHandle | null = null;
let seq = 0;

/** The diagnosis against the photo for this edge trace, if one was started. */
export function photoDiagnosisFor(trace: Trace | null): PhotoDiagnosis | null {
  return trace && current?.edge === trace ? current : null;
}

const conclusions = new WeakMap<PhotoDiagnosis, { rev: number; result: Diagnosis | { error: string } }>();

/** The causes (memoised per user-assertion revision): `concludeDiagnosis`, as in the CLI. */
export function photoDiagnosisResult(d: PhotoDiagnosis): Diagnosis | { error: string } | null {
  if (d.status !== 'done' || !d.ref?.trace || !d.comparison) return null;
  const user = userAssertions();
  const hit = conclusions.get(d);
  if (hit && hit.rev === user.rev) return hit.result;
  let result: Diagnosis | { error: string };
  try {
    result = concludeDiagnosis({
      edge: d.edge,
      ref: d.ref.trace,
      comparison: d.comparison,
      input: d.fitted?.fit ?? null,
      spec: d.spec,
      card: d.card,
      assertions: user.assertions,
      referenceBackend: d.referenceBackend,
      edgeWeights: d.edgeWeights,
      replays: d.replays ?? [],
      warnings: d.warnings,
    });
  } catch (e) {
    result = { error: e instanceof Error ? e.message : String(e) };
  }
  conclusions.set(d, { rev: user.rev, result });
  return result;
}

/** The edge run to diagnose: the selected one, else the first finished edge run. */
function edgeRun(): RunState | undefined {
  const s = getState();
  const edges = s.runs.filter((r) => r.role === 'edge' && r.trace);
  return edges.find((r) => r.stream === s.selectedRun) ?? edges[0];
}

/**
 * Diagnose the selected (or first) opened edge trace against its original photo. Called from an
 * event handler (the photo picker or drop zone in the diagnosis panel).
 */
export async function diagnoseAgainstPhoto(blob: Blob, photoName: string): Promise<void> {
  const run = edgeRun();
  if (!run?.trace) {
    setState({ notice: 'open an edge .exray first, then give its original photo' });
    return;
  }
  const mine = ++seq;
  running?.cancel();
  running = null;
  const edge = run.trace;
  replaysDoneByPhotoDiagnosis(edge);
  const onnx = edge.header.model.format === 'onnx';
  const t0 = performance.now();
  let mark = t0;
  const timings: Record<string, number> = {};
  const lap = (name: string): void => {
    const t = performance.now();
    timings[name] = Math.round(t - mark);
    mark = t;
  };
  const d: PhotoDiagnosis = {
    stream: run.stream,
    edge,
    photoName,
    status: 'running',
    phase: 'loading the model',
    error: null,
    model: null,
    spec: null,
    card: null,
    fitted: null,
    ref: null,
    comparison: null,
    referenceBackend: onnx ? 'wasm' : 'cpu',
    edgeWeights: null,
    replays: null,
    warnings: [],
    timings,
  };
  current = d;
  setState({});
  const live = (): boolean => mine === seq;
  const set = (patch: Partial<PhotoDiagnosis>): void => {
    if (!live()) return;
    current = { ...(current ?? d), ...patch };
    touch();
  };
  try {
    const { model, label } = await referenceModel(edge);
    const card = model.card ?? getState().index?.models.find((m) => m.name === edge.header.model.name)?.card ?? null;
    const spec = photoSpec(edge, card);
    if (!spec) throw new Error('neither the trace nor the model card gives the pre-processing (exray.json inputs[].preprocess)');
    const warnings: string[] = [];
    const mismatch = modelMismatchWarning(edge, label, model.sha256);
    if (mismatch) warnings.push(mismatch);
    const manifest = (model.modelJson as { weightsManifest?: Parameters<typeof weightStorageOf>[0] }).weightsManifest;
    const edgeWeights = !onnx && model.sha256 === edge.header.model.sha256 && Array.isArray(manifest) ? weightStorageOf(manifest) : null;
    lap('loadModel');
    set({ model: label, spec, card, edgeWeights, phase: 'input search' });

    const input = edge.header.input.tensors[0];
    const data = input?.blob ? edge.blobs.get(input.blob.id) : undefined;
    if (!input || !data) throw new Error(`${run.where}: the trace recorded no input values`);
    const fitted = await utility().fitInput(blob, photoName, spec, { file: run.where, input: edge.header.input, data });
    warnings.push(...fitted.warnings);
    timings['decode'] = fitted.decodeMs;
    timings['inputSearch'] = fitted.searchMs;
    lap('inputWorker'); // decode + inputSearch + messaging
    if (!live()) return;
    set({ fitted, warnings, phase: 'reference run' });

    const backend: BackendName = onnx ? 'wasm' : 'cpu';
    const ref = new RunState(PHOTO_REFERENCE_STREAM, 'reference', backend, 'worker');
    set({ ref });
    const job: RunJob = {
      stream: PHOTO_REFERENCE_STREAM,
      backend,
      options: getState().options,
      label: 'reference',
      capture: 'tensors',
      // TF.js: values only (timing + capture passes, no plain runs); ONNX Runtime runs one timed run.
      runs: 0,
      warmup: 0,
      referenceFor: edge.header.id,
    };
    const handle = runJobInWorker(
      payloadOf(model),
      fitted.input,
      job,
      (t) => {
        t.subscribe((m) => {
          if (m.stream !== PHOTO_REFERENCE_STREAM) return;
          ref.push(m.event);
          touch();
        });
      },
      (phase) => set({ phase: `reference run: ${phase}` }),
    );
    running = handle;
    await handle.done;
    if (running === handle) running = null;
    // Trace events may still be queued behind the reply.
    for (let i = 0; i < 100 && !ref.trace && ref.status !== 'failed'; i++) await new Promise((r) => setTimeout(r, 10));
    if (!ref.trace) throw new Error(`reference run: ${ref.error ?? 'no trace'}`);
    lap('reference');
    if (!live()) return;
    const comparison = diagnosisComparison(edge, ref.trace, card);
    lap('compare');

    // Single-node replays of the suspicious nodes on the reference backend, fed with the edge's own
    // recorded inputs (as `exray diagnose`): own vs inherited error, the `kernel` cause.
    let replays: ReplayResult[] | null = null;
    const picks = edge.header.capture === 'tensors' ? selectReplayNodes(comparison, edge, { max: replayMax(backend) }) : [];
    if (picks.length > 0) {
      set({ phase: `single-node replay of ${picks.length} nodes` });
      const h = replayInWorker(payloadOf(model), edge, { backend, options: getState().options, nodes: picks }, (phase) => set({ phase: `single-node replay: ${phase}` }));
      running = h;
      try {
        const answer = await h.done;
        replays = answer.results;
        timings['replayLoad'] = answer.loadMs;
        timings['replayNodes'] = answer.replayMs;
      } catch (e) {
        if (!live()) return;
        warnings.push(`single-node replay failed (own and inherited error are not split): ${e instanceof Error ? e.message : String(e)}`);
      }
      if (running === h) running = null;
      lap('replay'); // load + replays + messaging
      if (!live()) return;
    }
    timings['total'] = Math.round(performance.now() - t0);
    set({ comparison, replays, warnings: [...warnings], status: 'done', phase: 'done', timings: { ...timings } });
    // One opened edge trace has no reference: this run becomes the session's, for the other views.
    if (!referenceRun() && getState().runs.some((r) => r === run)) {
      setState({ runs: [ref, ...getState().runs] });
      recompareAll();
    }
  } catch (e) {
    set({ status: 'failed', phase: 'failed', error: e instanceof Error ? e.message : String(e), timings: { ...timings } });
  }
}
