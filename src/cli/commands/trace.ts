import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ExrayInputError } from '../../errors.ts';
import { checkRunCounts } from '../../limits.ts';
import { checkOutputFile, modelInputFiles } from '../../io/outputs.ts';
import type { CaptureMode, InputSource, ModelIdentity, PreprocessSpec, Trace } from '../../trace/types.ts';
import type { FeedTensor } from '../../reference/feed.ts';
import { feedFromTrace } from '../../reference/feed.ts';
import { readTensorFile } from '../../reference/tensor-file.ts';
import type { NodeBackend } from '../../reference/tfjs-backend.ts';
import { loadModelCard, type ModelCard } from '../../models/card.ts';
import { modelCardPath, resolveModelJsonPath } from '../../models/load-node.ts';
import { decodeImageFile } from '../../preprocess/decode-node.ts';
import { preprocess } from '../../preprocess/pipeline.ts';
import { readTrace, rewriteNarrowed, writeTrace } from '../io.ts';
import type { StoragePrecision } from '../../trace/blob-codec.ts';
import { selectionOf, traceInNodeToFile } from '../trace-writer.ts';
import { formatTraceSummary } from '../format.ts';
import { checkCardAgainstModel } from '../card-check.ts';

export interface TraceCommandOptions {
  image?: string;
  input?: string[];
  backend: NodeBackend | 'webgl' | 'webgpu';
  browser?: boolean;
  f16?: boolean;
  pack: boolean;
  device?: string;
  capture: CaptureMode;
  /** `--nodes` patterns (src/instrument/node-select.ts). */
  nodes?: string[];
  /** `--max-memory`, bytes. */
  maxMemory?: number;
  runs: number;
  warmup: number;
  out: string;
  /** `--precision`: how values are stored (default float32, exact). */
  precision?: StoragePrecision;
  json?: boolean;
  /** The model card, when not beside the model (`<stem>.exray.json` / exray.json). */
  card?: string;
}

export interface PreparedInput {
  feed: FeedTensor[];
  feedFile: string;
  source?: InputSource;
  preprocess?: PreprocessSpec;
}

/**
 * The card of a model (a directory, model.json or any TF.js model JSON, or a .onnx file): `explicit`
 * (`--card`), else `<model-file-stem>.exray.json` beside the file, else the folder's exray.json (see
 * modelCardPath).
 */
export async function cardFor(model: string, explicit?: string): Promise<ModelCard | null> {
  const path = await modelCardPath(model, explicit);
  return path ? loadModelCard(path) : null;
}

/** Turn `--image` / `--input` into the exact tensors to feed, with their provenance. */
export async function prepareInput(model: string, opts: { image?: string; input?: string[]; card?: string }): Promise<PreparedInput> {
  if (opts.image && opts.input) throw new ExrayInputError(opts.image, 'give either --image or --input, not both');
  if (opts.image) {
    const cardPath = await modelCardPath(model, opts.card);
    if (!cardPath) {
      const { modelDirOf } = await import('../../reference/trace-node.ts');
      const dir = await modelDirOf(model);
      const isDir = await stat(model).then((s) => s.isDirectory(), () => true);
      // A folder of several models: say so (and which) before asking for a card.
      const { isOnnxModelPath } = await import('../../reference/ort-node.ts');
      if (isDir && !(await isOnnxModelPath(model))) await resolveModelJsonPath(model);
      const stem = isDir ? null : basename(model).replace(/\.(json|onnx)$/i, '');
      throw new ExrayInputError(
        join(dir, stem ? `${stem}.exray.json` : 'exray.json'),
        'no model card: --image needs one to know the pre-processing (write it there, pass --card <file>, or pass --input)',
      );
    }
    const card = await loadModelCard(cardPath);
    const imageInputs = card.inputs.filter((i) => i.kind === 'image' && i.preprocess);
    const first = imageInputs[0];
    if (!first?.preprocess) throw new ExrayInputError(cardPath, 'the card declares no image input with a preprocess spec');
    if (card.inputs.length > 1) throw new ExrayInputError(cardPath, `model has ${card.inputs.length} inputs: pass them with --input`);
    const { image, source } = await decodeImageFile(opts.image);
    const t = preprocess(image, source.exifOrientation, first.preprocess);
    return {
      feed: [{ name: first.name, shape: t.shape, dtype: t.dtype, data: t.data }],
      feedFile: opts.image,
      source,
      preprocess: first.preprocess,
    };
  }
  if (opts.input && opts.input.length > 0) {
    const feed: FeedTensor[] = [];
    let recorded: Trace | undefined;
    for (const spec of opts.input) {
      // `name=file` names the tensor for a multi-input model.
      const m = /^([^=]+)=(.+)$/.exec(spec);
      const [name, file] = m ? [m[1]!, m[2]!] : ['input', spec];
      if (file.endsWith('.exray')) {
        recorded = await readTrace(file);
        feed.push(...feedFromTrace(recorded, file));
      } else {
        feed.push(...(await readTensorFile(file, name)));
      }
    }
    const src = recorded?.header.input;
    return {
      feed,
      feedFile: opts.input.join(', '),
      ...(src?.source ? { source: src.source } : {}),
      ...(src?.preprocess ? { preprocess: src.preprocess } : {}),
    };
  }
  throw new ExrayInputError(model, 'no input: pass --image <photo> or --input <tensor file>');
}

/** The files `--input` names (`name=file` or `file`). */
export function inputFiles(specs: readonly string[] | undefined): string[] {
  return (specs ?? []).map((spec) => /^[^=]+=(.+)$/.exec(spec)?.[1] ?? spec);
}

export async function traceCommand(model: string, opts: TraceCommandOptions): Promise<void> {
  checkRunCounts(opts);
  const nodes = selectionOf(model, opts.nodes);
  // Before any work: --out must be writable and must not be one of the inputs.
  await checkOutputFile(opts.out, [...(await modelInputFiles(model)), ...(opts.image ? [opts.image] : []), ...inputFiles(opts.input)]);
  const input = await prepareInput(model, opts);
  // The card (given, or beside the model) must describe this model: checked once the model is loaded.
  const cardPath = await modelCardPath(model, opts.card);
  const card = cardPath ? await loadModelCard(cardPath) : null;
  const checkCard = (m: Pick<ModelIdentity, 'format' | 'inputs' | 'outputs'>): void => {
    if (card && cardPath) checkCardAgainstModel(card, cardPath, m, model);
  };
  const common = { model, capture: opts.capture, runs: opts.runs, warmup: opts.warmup, ...input };
  let trace: Trace;
  if (opts.browser) {
    const { traceInBrowser } = await import('../browser.ts');
    trace = await traceInBrowser({
      ...common,
      backend: opts.backend,
      f16: opts.f16 ?? false,
      pack: opts.pack,
      ...(opts.device ? { device: opts.device } : {}),
      ...(opts.card ? { card: opts.card } : {}),
      ...(nodes && opts.nodes ? { nodes: opts.nodes } : {}),
      ...(opts.maxMemory !== undefined ? { maxMemoryBytes: opts.maxMemory } : {}),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    checkCard(trace.header.model);
  } else {
    if (opts.backend === 'webgl' || opts.backend === 'webgpu') {
      throw new ExrayInputError(model, `backend ${opts.backend} runs in a browser: add --browser`);
    }
    if (opts.f16 || opts.device) throw new ExrayInputError(model, '--f16 and --device apply to browser runs: add --browser');
    // TF.js loads only once the checks above have passed (trace-node.ts is imported in there).
    trace = await traceInNodeToFile(opts.out, {
      ...common,
      backend: opts.backend,
      ...(nodes ? { nodes } : {}),
      ...(opts.maxMemory !== undefined ? { maxMemoryBytes: opts.maxMemory } : {}),
    }, (e) => {
      if (e.type === 'run-start') checkCard(e.model);
    });
  }
  if (opts.browser) await writeTrace(opts.out, trace, { precision: opts.precision ?? 'float32' });
  else if (opts.precision && opts.precision !== 'float32') trace = await rewriteNarrowed(opts.out, opts.precision);
  if (opts.json) process.stdout.write(`${JSON.stringify(trace.header, null, 2)}\n`);
  else process.stdout.write(`${formatTraceSummary(trace, { limit: 10 })}\nwrote ${opts.out}\n`);
}
