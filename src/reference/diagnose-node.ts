/**
 * The Node-side runner of a diagnosis (`exray diagnose`, and the reference service of `exray serve`):
 *
 * 1. canonical pipeline (the trace's recorded spec, else the card's) on the original photo;
 * 2. input search: which pre-processing explains the edge's recorded input (pure, src/diagnose);
 * 3. reference: one capture run of the reference model on the canonical input (TF.js cpu by default);
 * 4. compare edge vs reference node by node;
 * 5. single-node replays of the suspicious nodes with the edge's own inputs → own vs inherited error;
 * 6. assertions; 7. causes (pure diagnose()).
 * Without an image the reference replays the edge's recorded input and only node-level causes apply.
 *
 * Lives in src/reference (not src/cli) so the server can run it without importing the CLI.
 */
import type { Comparison } from '../compare/index.ts';
import {
  concludeDiagnosis,
  diagnosisComparison,
  fitEdgeInput,
  modelMismatchWarning,
  photoSpec,
  weightStorageOf,
  selectReplayNodes,
  type Assertion,
  type Diagnosis,
  type InputFit,
  type WeightStorage,
} from '../diagnose/index.ts';
import { ExrayInputError } from '../errors.ts';
import { loadModelCard, type ModelCard } from '../models/card.ts';
import { modelHash } from '../models/hash.ts';
import { findModelBySha256, locateTraceModel } from '../models/locate.ts';
import { readTfjsModelJson } from '../models/manifest.ts';
import { modelCardPath, resolveModelJsonPath } from '../models/load-node.ts';
import { decodeImageFile } from '../preprocess/decode-node.ts';
import type { DecodedImage } from '../preprocess/image.ts';
import { decodeTraceNode } from '../io/zlib-native.ts';
import { readInputBytes } from '../read-input.ts';
import type { PreprocessSpec, Trace } from '../trace/types.ts';
import { feedFromTrace, type FeedTensor } from './feed.ts';
import { ReferenceSession } from './replay-node.ts';
import { replayOnnxNodes } from './replay-onnx.ts';
import { modelIdentityHash, traceInNode } from './trace-node.ts';
import type { NodeBackend } from './tfjs-backend.ts';

async function readTraceFile(path: string): Promise<Trace> {
  // Regular files within EXRAY_MAX_FILE_BYTES only (src/read-input.ts); problems name the file.
  return decodeTraceNode(await readInputBytes(path), path);
}

export interface DiagnoseRunOptions {
  /** The edge trace, or its file. */
  edge: Trace | string;
  /** Names the edge trace in messages (default: the file, or `edge trace`). */
  edgeFile?: string;
  /** The original photo (a path, or already decoded). */
  image?: string | DecodedImage;
  /** Reference model directory (default models/<trace's model name>). */
  model?: string;
  /** The deployed model's directory, when it differs from the reference (weights storage evidence). */
  edgeModel?: string;
  backend?: NodeBackend;
  /** At most this many single-node replays (default: 24 on cpu, 256 on wasm). */
  maxReplay?: number;
  /** User assertions, run after the built-ins. */
  assertions?: readonly Assertion[];
}

export interface DiagnoseRun {
  diagnosis: Diagnosis;
  comparison: Comparison;
  ref: Trace;
  input: InputFit | null;
  /** Wall times per step, ms. */
  timings: Record<string, number>;
}

/** The card of a model folder or file (`<stem>.exray.json` beside a file, else the folder's exray.json). */
async function cardIn(model: string): Promise<ModelCard | null> {
  const p = await modelCardPath(model);
  return p ? loadModelCard(p) : null;
}

/** How a TF.js model directory stores its weights (counts per stored dtype). */
export async function weightStorage(dir: string): Promise<WeightStorage> {
  const { modelJsonPath } = await resolveModelJsonPath(dir);
  const { model } = await readTfjsModelJson(modelJsonPath);
  return weightStorageOf(model.weightsManifest);
}

type ReferenceRunner = Pick<ReferenceSession, 'capture' | 'replay' | 'dispose'>;

/**
 * The ONNX reference: onnxruntime-node (cpu) or onnxruntime-web wasm in Node, one traced capture of
 * the canonical input; single-node replays cut each node out as a one-node model
 * (src/reference/replay-onnx.ts) and run it on the edge's recorded inputs.
 */
function onnxReference(modelDir: string, backend: NodeBackend): ReferenceRunner {
  return {
    capture: (feed, feedFile, meta) =>
      traceInNode({ model: modelDir, backend, feed, feedFile, capture: 'tensors', runs: 1, warmup: 0, label: 'reference', ...meta }),
    replay: (edge, nodes) => replayOnnxNodes(modelDir, backend, edge, nodes),
    dispose: () => {},
  };
}

export async function runDiagnosis(opts: DiagnoseRunOptions): Promise<DiagnoseRun> {
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  let mark = t0;
  const lap = (name: string): void => {
    const t = performance.now();
    timings[name] = Math.round(t - mark);
    mark = t;
  };
  const edgeFile = opts.edgeFile ?? (typeof opts.edge === 'string' ? opts.edge : 'edge trace');
  const edge = typeof opts.edge === 'string' ? await readTraceFile(opts.edge) : opts.edge;
  const warnings: string[] = [];
  const name = edge.header.model.name;
  const onnx = edge.header.model.format === 'onnx';
  // The trace's model name is a label, never joined to a path: the deployed model is the known model
  // folder (models/*) whose identity hash is the trace's sha256; the reference is --model, else that one.
  const modelDir = opts.model ? opts.model : await locateTraceModel(edge, edgeFile);
  const refHash = onnx ? await modelIdentityHash(modelDir) : await modelHash(modelDir);
  const located = refHash === edge.header.model.sha256 ? modelDir : await findModelBySha256(edge.header.model.sha256, { hint: name });
  const modelWarning = modelMismatchWarning(edge, modelDir, refHash);
  if (modelWarning) warnings.push(modelWarning);
  const card = (await cardIn(modelDir)) ?? (located ? await cardIn(located) : null);
  let edgeWeights: WeightStorage | null = null;
  const edgeModelDir = opts.edgeModel ?? (refHash === edge.header.model.sha256 ? modelDir : (located ?? undefined));
  if (edgeModelDir && !onnx) {
    const h = edgeModelDir === modelDir ? refHash : await modelHash(edgeModelDir).catch(() => '');
    if (h === edge.header.model.sha256 || opts.edgeModel) edgeWeights = await weightStorage(edgeModelDir).catch(() => null);
  }
  const edgeInput = edge.header.input.tensors[0];
  if (!edgeInput) throw new ExrayInputError(edgeFile, 'the trace recorded no input tensor');

  // ---- 1 + 2: canonical input and the input search ------------------------------------------------
  let input: InputFit | null = null;
  let feed: FeedTensor[];
  let spec: PreprocessSpec | undefined;
  if (opts.image !== undefined) {
    if (edge.header.input.tensors.length !== 1) throw new ExrayInputError(edgeFile, `diagnosing against a photo needs a single-input model, the trace has ${edge.header.input.tensors.length} inputs`);
    spec = photoSpec(edge, card) ?? undefined;
    if (!spec) throw new ExrayInputError(edgeFile, 'neither the trace nor the model card gives the pre-processing (exray.json inputs[].preprocess)');
    const decoded = typeof opts.image === 'string' ? await decodeImageFile(opts.image) : opts.image;
    lap('decode');
    const fit = fitEdgeInput(edge, edgeFile, decoded, spec);
    input = fit.input;
    warnings.push(...fit.warnings);
    lap('inputSearch');
    const t = fit.canonical;
    feed = [{ name: t.name, shape: t.shape, dtype: t.dtype, data: t.data }];
  } else {
    feed = feedFromTrace(edge, edgeFile);
    warnings.push('no --image: the reference replays the edge\'s recorded input, so input-level causes are not checked');
  }

  // ---- 3 + 4: reference capture and comparison ----------------------------------------------------
  const backend = opts.backend ?? 'cpu';
  const session: ReferenceRunner = onnx ? onnxReference(modelDir, backend) : await ReferenceSession.open(modelDir, backend);
  try {
    lap('loadReference');
    const ref = await session.capture(feed, opts.image !== undefined ? 'canonical input' : edgeFile, {
      modelName: name,
      referenceFor: edge.header.id,
      ...(edge.header.input.source ? { source: edge.header.input.source } : {}),
      ...(spec ? { preprocess: spec } : {}),
    });
    lap('reference');
    const comparison = diagnosisComparison(edge, ref, card);
    lap('compare');

    // ---- 5: single-node replays ---------------------------------------------------------------------
    const max = opts.maxReplay ?? (backend === 'cpu' ? 24 : 256);
    const picks = edge.header.capture === 'tensors' ? selectReplayNodes(comparison, edge, { max }) : [];
    const replays = picks.length ? await session.replay(edge, picks) : [];
    lap('replay');

    // ---- 6 + 7: assertions and causes (shared with the page: src/diagnose/photo.ts) ---------------------
    const diagnosis = concludeDiagnosis({ edge, ref, comparison, input, spec: spec ?? null, card, replays, assertions: opts.assertions ?? [], referenceBackend: backend, edgeWeights, warnings });
    lap('diagnose');
    timings['total'] = Math.round(performance.now() - t0);
    return { diagnosis, comparison, ref, input, timings };
  } finally {
    session.dispose();
  }
}
