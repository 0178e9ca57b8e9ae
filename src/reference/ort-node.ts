/**
 * Trace an ONNX model from disk in Node: `cpu` = onnxruntime-node (CPU execution provider, the desktop
 * reference), `wasm` = onnxruntime-web's wasm execution provider running in Node (the same engine as a
 * browser's, a second reference). Used by `exray trace` / `exray reference` through trace-node.ts.
 *
 * Kernel times come from ORT's session profiler. onnxruntime-node writes the profile to a file (its
 * JS binding drops the path `endProfiling` returns, so exray gives a prefix in a fresh temporary
 * directory and reads the one file there); onnxruntime-web in Node prints it with `fs.writeSync(1, …)`,
 * which exray intercepts for the duration of `endProfiling()` and restores.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { ExrayInputError } from '../errors.ts';
import type { CaptureMode, InputSource, PreprocessSpec, Trace, TraceEventSink } from '../trace/types.ts';
import {
  chromeTraceProfiler,
  ortInputData,
  ortTypeOfOnnx,
  OrtLoadError,
  profileFromLines,
  streamOnnx,
  traceOnnx,
  type KernelProfiler,
  type OrtModule,
  type OrtRuntimeName,
  type TraceOnnxOptions,
} from '../instrument/ort/index.ts';
import { decodeOnnx, describeOnnx, inputElemType } from '../onnx/model.ts';
import { limits } from '../limits.ts';
import { readInputBytes } from '../read-input.ts';
import { loadModelCard } from '../models/card.ts';
import { assertInsideModelFolder } from '../models/contained.ts';
import { checkFeed, type FeedTensor } from './feed.ts';
import { defaultMaxMemory } from './memory.ts';
import type { NodeSelection } from '../instrument/node-select.ts';
import { CaptureBudgetError } from '../instrument/ort/capture-plan.ts';
import { NodeStatsPool, threadsAfterRun } from './stats-pool-node.ts';
import { fullGc } from './gc-node.ts';

export type OrtNodeBackend = 'cpu' | 'wasm';

export interface OnnxNodeTraceOptions {
  /** A `.onnx` file, or a directory holding one (its exray.json's `modelFile`, else its only `.onnx`). */
  model: string;
  backend: OrtNodeBackend;
  feed: FeedTensor[];
  /** Names the feed's origin in error messages (an image, tensor files, a trace). */
  feedFile: string;
  capture?: CaptureMode;
  runs?: number;
  warmup?: number;
  /** Intra-op threads (cpu) / wasm threads (wasm). Default: cpu all cores, wasm onnxruntime-web's default. */
  threads?: number;
  source?: InputSource;
  preprocess?: PreprocessSpec;
  label?: string;
  referenceFor?: string;
  modelName?: string;
  onEvent?: TraceEventSink;
  /** `--nodes`: the nodes a capture exposes (default every node). */
  nodes?: NodeSelection;
  /** `--max-memory`: budget for the outputs one capture run exposes, bytes (default: memory.ts). */
  maxMemoryBytes?: number;
  /**
   * Events only, nothing kept (the caller writes them as they come: src/cli/trace-writer.ts); the
   * returned promise resolves to null then.
   */
  streamOnly?: boolean;
}

/** Whether `p` names an ONNX model: a `.onnx` file, or a directory whose card says onnx or that holds a `.onnx` and no model.json. */
export async function isOnnxModelPath(p: string): Promise<boolean> {
  if (p.endsWith('.onnx')) return true;
  const st = await stat(p).catch(() => null);
  if (!st?.isDirectory()) return false;
  const cardPath = path.join(p, 'exray.json');
  const card = await readFile(cardPath, 'utf8').then((t) => JSON.parse(t) as { format?: unknown }, () => null);
  if (card && typeof card.format === 'string') return card.format === 'onnx';
  const files = await readdir(p);
  return !files.includes('model.json') && files.some((f) => f.endsWith('.onnx'));
}

/**
 * The `.onnx` file a path names (see OnnxNodeTraceOptions.model), and the model's name: the directory's
 * name when a model card sits next to the file (`models/<name>/`), else the file name without `.onnx`.
 */
export async function resolveOnnxFile(p: string): Promise<{ dir: string; file: string; name: string }> {
  const st = await stat(p).catch(() => null);
  if (!st) throw new ExrayInputError(p, 'ONNX model file or directory does not exist (run `npm run models` to extract the sample models)');
  if (!st.isDirectory()) {
    const dir = path.dirname(p);
    const carded = await stat(path.join(dir, 'exray.json')).then((s) => s.isFile(), () => false);
    return { dir, file: p, name: carded ? path.basename(path.resolve(dir)) : path.basename(p, '.onnx') };
  }
  const name = path.basename(path.resolve(p));
  const cardPath = path.join(p, 'exray.json');
  const hasCard = await stat(cardPath).then((s) => s.isFile(), () => false);
  if (hasCard) {
    const card = await loadModelCard(cardPath);
    const file = path.join(p, card.modelFile);
    if (!(await stat(file).then((s) => s.isFile(), () => false))) {
      throw new ExrayInputError(file, 'is missing (run `npm run models` to extract the sample models)');
    }
    await assertInsideModelFolder(p, file);
    return { dir: p, file, name };
  }
  const onnx = (await readdir(p)).filter((f) => f.endsWith('.onnx'));
  if (onnx.length !== 1) throw new ExrayInputError(p, onnx.length === 0 ? 'holds no .onnx file' : `holds ${onnx.length} .onnx files (${onnx.join(', ')}): name one`);
  await assertInsideModelFolder(p, path.join(p, onnx[0]!));
  return { dir: p, file: path.join(p, onnx[0]!), name };
}

/** sha256 (hex) of the `.onnx` file: the model identity of an ONNX trace. */
export async function onnxModelHash(p: string): Promise<string> {
  const { file } = await resolveOnnxFile(p);
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** onnxruntime-node's profile: a file named `<prefix>_<date>.json`, in a temporary directory of its own. */
export async function fileProfiler(): Promise<KernelProfiler> {
  const dir = await mkdtemp(path.join(tmpdir(), 'exray-ort-profile-'));
  const prefix = path.join(dir, 'profile');
  return chromeTraceProfiler(
    async (session) => {
      await session.endProfiling();
      const files = (await readdir(dir)).filter((f) => f.startsWith('profile') && f.endsWith('.json'));
      if (files.length !== 1) throw new Error(`onnxruntime-node wrote ${files.length} profile files in ${dir}, expected 1`);
      const file = path.join(dir, files[0]!);
      const text = await readFile(file, 'utf8');
      await rm(file, { force: true });
      return text;
    },
    { profileFilePrefix: prefix },
    () => rm(dir, { recursive: true, force: true }),
  );
}

type WriteSync = typeof fs.writeSync;

/**
 * onnxruntime-web in Node prints the profile with `fs.writeSync(1, line)`: exray takes those writes
 * (and only fd 1, only during `f`) and restores `fs.writeSync` afterwards.
 */
export async function captureStdoutWrites(f: () => Promise<void>): Promise<string[]> {
  const original: WriteSync = fs.writeSync;
  const chunks: string[] = [];
  const intercept = ((fd: number, data: unknown, ...rest: unknown[]): number => {
    if (fd === 1 && typeof data === 'string') {
      chunks.push(data);
      return Buffer.byteLength(data);
    }
    return (original as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as WriteSync;
  fs.writeSync = intercept;
  try {
    await f();
  } finally {
    fs.writeSync = original;
  }
  return chunks.join('').split('\n');
}

/** onnxruntime-web's wasm EP in Node: the profile printed to stdout. */
export function stdoutProfiler(): KernelProfiler {
  return chromeTraceProfiler(async (session) => profileFromLines(await captureStdoutWrites(async () => session.endProfiling())));
}

/** The onnxruntime package for a backend, imported on first use. */
export async function loadOrt(backend: OrtNodeBackend): Promise<{ ort: OrtModule; runtime: OrtRuntimeName }> {
  if (backend === 'cpu') return { ort: (await import('onnxruntime-node')) as unknown as OrtModule, runtime: 'onnxruntime-node' };
  return { ort: (await import('onnxruntime-web')) as unknown as OrtModule, runtime: 'onnxruntime-web' };
}

/**
 * Trace an ONNX model in Node. Input problems are ExrayInputErrors naming the feed's file; a model the
 * runtime cannot read or load, one naming the model file.
 */
export async function traceOnnxInNode(opts: OnnxNodeTraceOptions & { streamOnly: true }): Promise<null>;
export async function traceOnnxInNode(opts: OnnxNodeTraceOptions): Promise<Trace>;
export async function traceOnnxInNode(opts: OnnxNodeTraceOptions): Promise<Trace | null> {
  const { file, name } = await resolveOnnxFile(opts.model);
  // A regular file within EXRAY_MAX_FILE_BYTES, at most EXRAY_MAX_NODES nodes (docs/limits.md).
  const bytes = await readInputBytes(file);
  const info = describeOnnx(decodeOnnx(bytes, file, limits().nodes));

  // The feed against the model's inputs: names, count, shapes, dtype family, then exact rank and the
  // values against the declared element type (int64 `sr`, uint8 images, …).
  const feed = checkFeed(info.inputs, opts.feed, opts.feedFile);
  for (const f of feed) {
    const t = info.valueTypes.get(f.name);
    if (t?.shape && t.shape.length !== f.shape.length) {
      throw new ExrayInputError(opts.feedFile, `input "${f.name}" has shape [${f.shape}], model input "${f.name}" has rank ${t.shape.length} ([${t.shape.map((d) => d ?? '?')}])`);
    }
    const et = inputElemType(info, f.name);
    const ortType = et ? ortTypeOfOnnx(et.elemType) : undefined;
    if (et && !ortType) throw new ExrayInputError(opts.feedFile, `model input "${f.name}" is ${et.onnx}, which exray cannot feed`);
    try {
      ortInputData(f, ortType ?? 'float32');
    } catch (e) {
      throw new ExrayInputError(opts.feedFile, (e as Error).message);
    }
  }

  const { ort, runtime } = await loadOrt(opts.backend);
  let threads = opts.threads;
  const sessionOptions: { intraOpNumThreads?: number } = {};
  if (opts.backend === 'cpu') {
    threads ??= availableParallelism();
    sessionOptions.intraOpNumThreads = threads;
  } else if (threads !== undefined) {
    ort.env.wasm.numThreads = threads;
  }
  const profiler = opts.backend === 'cpu' ? await fileProfiler() : stdoutProfiler();
  // Statistics of captured values on worker threads (started when the capture run begins), once the
  // run has given every output: all cores.
  const statsPool = new NodeStatsPool({ threads: threadsAfterRun() });
  const gc = fullGc();
  try {
    const options: TraceOnnxOptions = {
      runtime,
      executionProvider: opts.backend,
      profiler,
      sessionOptions,
      capture: opts.capture ?? 'tensors',
      runs: opts.runs ?? 5,
      warmup: opts.warmup ?? 1,
      modelFile: file,
      modelName: opts.modelName ?? name,
      modelSha256: createHash('sha256').update(bytes).digest('hex'),
      environment: { hardwareConcurrency: availableParallelism(), ...(threads !== undefined ? { threads } : {}) },
      ...(opts.source ? { source: opts.source } : {}),
      ...(opts.preprocess ? { preprocess: opts.preprocess } : {}),
      ...(opts.label ? { label: opts.label } : {}),
      ...(opts.referenceFor ? { referenceFor: opts.referenceFor } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      ...(opts.nodes ? { nodes: opts.nodes } : {}),
      maxMemoryBytes: opts.maxMemoryBytes ?? defaultMaxMemory(),
      statsPool,
      ...(gc ? { afterPass: gc } : {}),
    };
    if (!opts.streamOnly) return await traceOnnx(ort, bytes, feed, options);
    await streamOnnx(ort, bytes, feed, options);
    return null;
  } catch (e) {
    if (e instanceof OrtLoadError) throw new ExrayInputError(file, `${runtime} cannot load this model: ${e.message}`);
    // A node over the memory budget, or --nodes matching nothing: the user's choice, named with the model.
    if (e instanceof CaptureBudgetError || (e instanceof RangeError && e.message.startsWith('--nodes '))) throw new ExrayInputError(file, e.message);
    throw e;
  } finally {
    await profiler.dispose?.();
    await statsPool.close();
  }
}
