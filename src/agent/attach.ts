/**
 * `attach()`: the exray agent inside the user's own app. It patches the app's runtimes (tfjs.ts;
 * onnxruntime-web or -node when given), decides per inference whether to capture it (sampler.ts), and turns a
 * captured inference plus the model's identity (model-files.ts) and the raw image the app started from
 * (pixels.ts) into a trace for a sink (sinks.ts): the `exray serve` socket or, in Node, a folder.
 *
 * The app comes first: the agent never throws into it, never changes what an inference returns, keeps
 * at most `maxPendingCaptures` captures waiting (the rest are dropped and counted), and says a problem
 * once in the console rather than once per inference.
 */
import { TRACE_FORMAT, TRACE_VERSION, type PreprocessSpec, type Trace } from '../trace/types.ts';
import { newTraceId } from '../trace/ids.ts';
import { validateTrace } from '../trace/schema.ts';
import { median } from '../instrument/common.ts';
import type { WebSocketCtor } from '../transport/reconnect.ts';
import type { LinkStatus } from '../transport/socket.ts';
import { Sampler, type SamplingOptions } from './sampler.ts';
import { isTfApi, TfjsPatch, type TfApi } from './tfjs.ts';
import { tfjsFilesFromSave, tfjsFilesFromUrl, type ModelFiles } from './model-files.ts';
import { FolderSink, ServerSink, type AgentSink, type RawImage } from './sinks.ts';
import type { CaptureSettings, CapturedRun, PendingCapture, RunTiming } from './types.ts';
import { PixelRecorder } from './pixels.ts';
import { isOrtApi, OrtPatch } from './ort.ts';

export interface AttachOptions {
  /** The app's TF.js (`import * as tf from '@tensorflow/tfjs'`); default the `tf` global. */
  tf?: unknown;
  /** The app's onnxruntime-web (or onnxruntime-node); default the `ort` global. */
  ort?: unknown;
  /** `exray serve`'s URL (`http://HOST:PORT`), with `token`: traces stream there. */
  server?: string;
  token?: string;
  /** Node: write each trace to this folder instead (`<model>-<time>-<id>.exray`). */
  out?: string;
  /** Which inferences to capture (default: the first of each model). */
  sample?: SamplingOptions;
  /** `stats` (default) or `tensors` (every node's values: large). */
  capture?: 'stats' | 'tensors';
  /** What the model expects, when the server does not know the model (the trace records it). */
  preprocess?: PreprocessSpec;
  /** Names this app / device on the desktop (default the page's host). */
  device?: string;
  /** Captures waiting to be built or sent, at most (default 2); more are dropped and counted. */
  maxPendingCaptures?: number;
  /** Record the raw image the app started from (browser; default true). */
  recordImages?: boolean;
  /** Node without a global WebSocket: the `ws` package's class (else imported on demand). */
  WebSocket?: unknown;
  /** Where the agent speaks (default console.warn / console.info, each problem once). */
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Link state changes of the server socket. */
  onStatus?: (status: LinkStatus) => void;
}

export interface AgentCounters {
  /** Inferences seen (all models). */
  inferences: number;
  /** Inferences captured. */
  captured: number;
  /** Traces the sink took (sent and acknowledged, or written). */
  shipped: number;
  /** Captures dropped: server not connected, too many pending. */
  dropped: number;
  /** Captures that failed (the reason was logged). */
  failed: number;
}

export interface Agent {
  readonly counters: Readonly<AgentCounters>;
  /** Capture the next inference, whichever model makes it. */
  captureNext(): void;
  /** Resolves when every pending capture is built and shipped (or dropped). */
  idle(): Promise<void>;
  /** Put every patched method back and close the link (after pending captures, at most `graceMs`). */
  detach(graceMs?: number): Promise<void>;
  /** Where the last traces went (session ids or files), newest last; at most 20. */
  readonly shipped: readonly string[];
  /** The server link's state (null with a folder sink). */
  readonly link: LinkStatus | null;
}

const TIMING_WINDOW = 64;

interface ModelState {
  files: Promise<ModelFiles | null> | null;
  timings: number[];
  firstMs: number | null;
}

function defaultLog(level: 'info' | 'warn', message: string): void {
  (level === 'warn' ? console.warn : console.info)(`exray agent: ${message}`);
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
}

async function webSocketClass(given: unknown): Promise<WebSocketCtor | null> {
  if (typeof given === 'function') return given as WebSocketCtor;
  const g = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof g === 'function') return g as WebSocketCtor;
  if (!isNode()) return null;
  // Node 20 has no WebSocket: the `ws` package (a dependency of exray), imported by a name bundlers leave alone.
  const name = 'ws';
  const m = (await import(/* @vite-ignore */ name)) as { WebSocket?: unknown; default?: unknown };
  return (m.WebSocket ?? m.default) as WebSocketCtor;
}

export async function attach(options: AttachOptions = {}): Promise<Agent> {
  const log = options.log ?? defaultLog;
  const said = new Set<string>();
  const once = (level: 'info' | 'warn', key: string, message: string): void => {
    if (said.has(key)) return;
    said.add(key);
    try {
      log(level, message);
    } catch {
      /* a broken logger must not break the app */
    }
  };
  const tf = options.tf ?? (globalThis as { tf?: unknown }).tf;
  if (tf !== undefined && !isTfApi(tf)) throw new Error('exray agent: `tf` is not a TF.js namespace (GraphModel / LayersModel and getBackend expected)');
  if (tf === undefined && options.ort === undefined && (globalThis as { ort?: unknown }).ort === undefined) {
    throw new Error('exray agent: no runtime to patch: pass { tf } (TF.js) or { ort } (onnxruntime-web / -node), or load them first');
  }

  const sampler = new Sampler(options.sample);
  let sink: AgentSink;
  if (options.out !== undefined) sink = new FolderSink(options.out);
  else {
    if (!options.server || !options.token) throw new Error('exray agent: give { server, token } (from `exray serve`) or, in Node, { out: folder }');
    if (!/^[0-9a-f]{32}$/.test(options.token)) throw new Error('exray agent: the token is 32 hex digits (as `exray serve` prints it)');
    sink = new ServerSink({ server: options.server, token: options.token, WebSocket: await webSocketClass(options.WebSocket), onCapture: () => sampler.captureNext(), ...(options.onStatus ? { onStatus: options.onStatus } : {}) });
  }

  const settings: CaptureSettings = { capture: options.capture ?? 'stats', histogramBins: 32 };
  const models = new WeakMap<object, ModelState>();
  const counters: AgentCounters = { inferences: 0, captured: 0, shipped: 0, dropped: 0, failed: 0 };
  const shipped: string[] = [];
  const maxPending = Math.max(1, options.maxPendingCaptures ?? 2);
  const device = (options.device ?? (globalThis as { location?: { host?: string } }).location?.host ?? (isNode() ? 'node app' : 'app')).slice(0, 100);
  const pixels = options.recordImages === false || isNode() ? null : PixelRecorder.install(tf as TfApi | undefined);
  let pending = 0;
  let chain: Promise<void> = Promise.resolve();
  let detached = false;

  const stateOf = (model: object): ModelState => {
    let s = models.get(model);
    if (!s) {
      s = { files: null, timings: [], firstMs: null };
      models.set(model, s);
    }
    return s;
  };

  const filesOf = (model: object, format: CapturedRun['format']): Promise<ModelFiles | null> => {
    const s = stateOf(model);
    s.files ??= (async () => {
      const url = (model as { modelUrl?: unknown }).modelUrl;
      const base = (globalThis as { location?: { href?: string } }).location?.href;
      // A URL TF.js fetched the model from (not indexeddb://, localstorage://, an IOHandler object).
      if (typeof url === 'string' && !/^(indexeddb|localstorage|downloads|file):\/\//i.test(url)) {
        try {
          return await tfjsFilesFromUrl(url, format, (u) => fetch(u), base);
        } catch (e) {
          once('warn', `url:${url}`, `could not fetch the model again from ${url} (${e instanceof Error ? e.message : String(e)}): identifying it by its serialised form`);
        }
      }
      const save = (tf as TfApi).io?.withSaveHandler;
      if (!save) return null;
      const name = typeof (model as { name?: unknown }).name === 'string' ? ((model as { name: string }).name.replace(/[^A-Za-z0-9._-]/g, '_') || 'model') : 'model';
      return await tfjsFilesFromSave(model as { save?: (h: unknown) => Promise<unknown> }, save, format, name);
    })().catch((e: unknown) => {
      once('warn', 'identity', `could not identify a model (${e instanceof Error ? e.message : String(e)}): its traces have no model hash, the desktop cannot run its reference`);
      return null;
    });
    return s.files;
  };

  const timingOf = (model: object): RunTiming => {
    const s = stateOf(model);
    if (s.timings.length === 0) return null;
    return { warmupRuns: 0, runMs: [...s.timings], medianMs: median(s.timings), firstRunMs: s.firstMs ?? s.timings[0]! };
  };

  const toTrace = (run: CapturedRun, files: ModelFiles | null): Trace => {
    const warnings = [...run.warnings];
    if (files) warnings.push(`model identity: ${files.how}`);
    const trace: Trace = {
      header: {
        format: TRACE_FORMAT,
        version: TRACE_VERSION,
        id: newTraceId(),
        createdAt: new Date().toISOString(),
        label: `agent ${run.runtime.backend}`,
        capture: settings.capture,
        model: {
          name: files?.name ?? 'model',
          format: run.format,
          sha256: files?.sha256 ?? '',
          inputs: run.declaredInputs,
          outputs: run.declaredOutputs,
          nodeCount: run.nodeCount,
        },
        runtime: run.runtime,
        environment: run.environment,
        input: { tensors: run.inputs, ...(options.preprocess ? { preprocess: options.preprocess } : {}) },
        ...(run.timing ? { timing: run.timing } : {}),
        nodes: run.nodes,
        kernels: [],
        outputs: run.outputs,
        warnings,
      },
      blobs: run.blobs,
    };
    validateTrace(trace, `agent trace of ${trace.header.model.name}`);
    return trace;
  };

  const host = {
    decide(model: object): 'capture' | 'timing' {
      counters.inferences++;
      const d = detached ? 'timing' : sampler.next(model);
      if (d === 'capture' && (pending >= maxPending || !sink.ready())) {
        counters.dropped++;
        once('warn', 'dropped', `a capture was dropped: ${pending >= maxPending ? `${pending} captures are still pending` : sink.notReadyReason}. The app runs on; counters in exray.counters`);
        return 'timing';
      }
      return d;
    },
    timed(model: object, ms: number): void {
      const s = stateOf(model);
      s.firstMs ??= ms;
      s.timings.push(ms);
      if (s.timings.length > TIMING_WINDOW) s.timings.shift();
    },
    settings: () => settings,
    now,
    timingOf,
    problem(where: string, e: unknown): void {
      once('warn', `problem:${where}`, `${where}: ${e instanceof Error ? e.message : String(e)}`);
    },
    captured(model: object, capture: PendingCapture): void {
      counters.captured++;
      pending++;
      const image = pixels?.take() ?? null;
      chain = chain.then(async () => {
        try {
          const run = await capture.build();
          const files = run.modelFiles ? await run.modelFiles().catch(() => null) : await filesOf(model, run.format);
          const raw: RawImage | null = image ? await image.catch(() => null) : null;
          const trace = toTrace(run, files);
          if (raw) trace.header.warnings.push(`raw image: ${raw.how}`);
          const r = await sink.ship(trace, files, raw, device);
          if (r.status === 'sent' || r.status === 'written') {
            counters.shipped++;
            shipped.push(r.where);
            if (shipped.length > 20) shipped.shift();
          } else if (r.status === 'dropped') {
            counters.dropped++;
            once('warn', 'dropped', `a capture was dropped: ${r.reason}. The app runs on; counters in exray.counters`);
          } else {
            counters.failed++;
            once('warn', `failed:${r.reason}`, `a trace could not be delivered: ${r.reason}`);
          }
        } catch (e) {
          counters.failed++;
          capture.release();
          once('warn', `build:${e instanceof Error ? e.message : String(e)}`, `a capture failed: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          pending--;
        }
      });
    },
  };

  const patches: { restore(): void }[] = [];
  if (tf !== undefined) patches.push(new TfjsPatch(tf as TfApi, host));
  const ort = options.ort ?? (globalThis as { ort?: unknown }).ort;
  if (ort !== undefined) {
    if (isOrtApi(ort)) patches.push(new OrtPatch(ort, host));
    else once('warn', 'ort', '`ort` is not an onnxruntime namespace (InferenceSession expected): not patched');
  }

  return {
    counters,
    shipped,
    get link() {
      return sink.link;
    },
    captureNext: () => sampler.captureNext(),
    idle: async () => {
      for (;;) {
        const c = chain;
        await c;
        if (c === chain) return;
      }
    },
    detach: async (graceMs = 5000) => {
      if (detached) return;
      detached = true;
      for (const p of patches.splice(0).reverse()) p.restore();
      pixels?.restore();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([chain, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      sink.close();
    },
  };
}
