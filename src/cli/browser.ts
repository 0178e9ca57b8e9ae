/**
 * `exray trace --browser`: run the traced inference in a real (headless) Chromium on a browser
 * backend and bring the `.exray` back. The page is served by Vite (the project's own config: COOP/COEP
 * headers, wasm assets); the model files, the input and the result travel through Playwright routes,
 * so any model directory on disk works, not only the bundled samples.
 */
import { readFile } from 'node:fs/promises';
import { join, normalize, relative, isAbsolute } from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { decodeTraceNode } from '../io/zlib-native.ts';
import type { CaptureMode, InputSource, PreprocessSpec, Trace } from '../trace/types.ts';
import type { FeedTensor } from '../reference/feed.ts';
import { modelHash } from '../models/hash.ts';
import { modelNameOf, resolveModelJsonPath } from '../models/load-node.ts';
import type { RunnerRequest, RunnerResult } from '../browser-runner/protocol.ts';
import { RUNNER_PREFIX } from '../browser-runner/protocol.ts';
import type { BackendName } from '../viewer/worker/protocol.ts';
import { chromiumLaunchOptions } from './chromium.ts';
import type { Page } from 'playwright-core';
import { cardFor } from './commands/trace.ts';
import { isOnnxModelPath, onnxModelHash, resolveOnnxFile } from '../reference/ort-node.ts';
import { onnxUnsupported } from '../viewer/worker/protocol.ts';

function base64Of(data: Float32Array | Int32Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** The feed as the runner page's request: the first tensor, then the model's other inputs. */
function onnxInput(feed: FeedTensor[], opts: BrowserTraceOptions): RunnerRequest['input'] {
  const [f, ...rest] = feed;
  if (!f) throw new ExrayInputError(opts.feedFile, 'no input tensor');
  const others = rest.map((o) => {
    if (o.dtype !== 'float32' && o.dtype !== 'int32' && o.dtype !== 'int64') throw new ExrayInputError(opts.feedFile, `input "${o.name}" is ${o.dtype}: browser runs take float32 and integer inputs`);
    return { name: o.name, shape: o.shape, dtype: o.dtype, base64: base64Of(o.data) };
  });
  return {
    name: f.name,
    shape: f.shape,
    dtype: f.data instanceof Int32Array ? 'int32' : 'float32',
    base64: base64Of(f.data),
    ...(others.length > 0 ? { others } : {}),
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.preprocess ? { preprocess: opts.preprocess } : {}),
  };
}

/** An ONNX model in the runner page: onnxruntime-web (wasm / webgpu EP) with the ORT instrumenter, in a worker. */
async function onnxRequest(opts: BrowserTraceOptions): Promise<{ dir: string; request: RunnerRequest }> {
  const why = onnxUnsupported(opts.backend);
  if (why) throw new ExrayInputError(opts.model, `--backend ${opts.backend}: ${why}; use --backend wasm or webgpu`);
  if (opts.f16) throw new ExrayInputError(opts.model, '--f16 is a TF.js WebGL option: not for ONNX models');
  const { dir, file, name } = await resolveOnnxFile(opts.model);
  const card = await cardFor(opts.model, opts.card).catch(() => null);
  const request: RunnerRequest = {
    model: { name, sha256: await onnxModelHash(opts.model), async: false, modelFile: relative(dir, file), format: 'onnx', ...(card ? { card } : {}) },
    input: onnxInput(opts.feed, opts),
    backend: opts.backend,
    options: { webglF16: false, webglPack: true, wasmThreads: true, wasmSimd: true },
    capture: opts.capture,
    runs: opts.runs,
    warmup: opts.warmup,
    label: `browser onnxruntime-web ${opts.backend}`,
    where: 'worker',
  };
  return { dir, request };
}

export interface BrowserTraceOptions {
  model: string;
  backend: BackendName;
  feed: FeedTensor[];
  feedFile: string;
  capture: CaptureMode;
  runs: number;
  warmup: number;
  source?: InputSource;
  preprocess?: PreprocessSpec;
  /** WebGL half-float textures (phone GPU emulation). */
  f16?: boolean;
  /** WebGL packing (TF.js default on). */
  pack?: boolean;
  /** Emulate a device (a Playwright device descriptor name, e.g. `Pixel 7`). */
  device?: string;
  /** The model card when not beside the model (`--card`). */
  card?: string;
  /** `--nodes` patterns (checked by the caller). */
  nodes?: string[];
  /** `--max-memory`, bytes (ONNX: multi-pass capture in the page as in Node). */
  maxMemoryBytes?: number;
  log?: (line: string) => void;
}

/** The runner page's request for a model (TF.js or ONNX) and the directory its files are served from. */
export async function runnerRequestFor(opts: BrowserTraceOptions): Promise<{ dir: string; request: RunnerRequest }> {
  const r = (await isOnnxModelPath(opts.model)) ? await onnxRequest(opts) : await tfjsRequest(opts);
  if (opts.nodes?.length) r.request.nodes = [...opts.nodes];
  if (opts.maxMemoryBytes !== undefined) r.request.maxMemoryBytes = opts.maxMemoryBytes;
  return r;
}

/**
 * Run one request on a runner page that is ready (`document.body.dataset.ready`) and routed with
 * routeRunnerFiles, and decode the `.exray` it uploaded.
 */
export async function runOnRunnerPage(page: Page, request: RunnerRequest, routes: RunnerRoutes): Promise<Trace> {
  routes.take();
  const result = (await page.evaluate((req) => (globalThis as unknown as { exrayRun(r: unknown): Promise<unknown> }).exrayRun(req), request)) as RunnerResult;
  if (!result.ok) throw new Error(`browser run on ${request.backend} failed: ${result.error ?? 'unknown error'}`);
  const bytes = routes.take();
  if (!bytes) throw new Error('the browser did not upload a trace');
  return decodeTraceNode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `browser ${request.backend} trace`);
}

export async function traceInBrowser(opts: BrowserTraceOptions): Promise<Trace> {
  const { dir, request } = await runnerRequestFor(opts);
  const session = await openRunnerPage(dir, { ...(opts.device ? { device: opts.device } : {}), ...(opts.log ? { log: opts.log } : {}) });
  try {
    return await runOnRunnerPage(session.page, request, session.routes);
  } finally {
    await session.close();
  }
}

async function tfjsRequest(opts: BrowserTraceOptions): Promise<{ dir: string; request: RunnerRequest }> {
  const { dir, modelJsonPath } = await resolveModelJsonPath(opts.model);
  const card = await cardFor(opts.model, opts.card);
  if (opts.feed.length !== 1) throw new ExrayInputError(opts.feedFile, `browser runs take one input tensor, got ${opts.feed.length}`);
  const f = opts.feed[0]!;
  const data = f.data instanceof Int32Array ? f.data : Float32Array.from(f.data);
  const request: RunnerRequest = {
    model: { name: card?.name ?? (await modelNameOf(opts.model)), sha256: await modelHash(opts.model), async: card?.execution === 'async', modelFile: relative(dir, modelJsonPath) },
    input: {
      name: f.name,
      shape: f.shape,
      dtype: data instanceof Int32Array ? 'int32' : 'float32',
      base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      ...(opts.source ? { source: opts.source } : {}),
      ...(opts.preprocess ? { preprocess: opts.preprocess } : {}),
    },
    backend: opts.backend,
    options: { webglF16: opts.f16 ?? false, webglPack: opts.pack ?? true, wasmThreads: true, wasmSimd: true },
    capture: opts.capture,
    runs: opts.runs,
    warmup: opts.warmup,
    label: `browser ${opts.backend}${opts.f16 ? ' f16' : ''}`,
    where: opts.backend === 'cpu' || opts.backend === 'wasm' ? 'worker' : 'main',
  };
  return { dir, request };
}

export interface RunnerRoutes {
  /** The last `.exray` the page uploaded, cleared (null when none arrived since the last take). */
  take(): Buffer | null;
}

/**
 * Answer the runner page's `/__exray/model/<file>` requests from `modelDir` and keep its
 * `/__exray/result` uploads, through Playwright routes: any model directory on disk works, and nothing
 * is served to anyone but this page.
 */
export async function routeRunnerFiles(page: Page, modelDir: string): Promise<RunnerRoutes> {
  let uploaded: Buffer | null = null;
  await page.route(`**${RUNNER_PREFIX}**`, async (route) => {
    const url = new URL(route.request().url());
    const rest = decodeURIComponent(url.pathname.slice(RUNNER_PREFIX.length));
    if (rest === 'result' && route.request().method() === 'POST') {
      uploaded = route.request().postDataBuffer();
      return route.fulfill({ status: 204 });
    }
    if (rest.startsWith('model/')) {
      const file = normalize(rest.slice('model/'.length));
      if (isAbsolute(file) || file.startsWith('..')) return route.fulfill({ status: 403 });
      try {
        return route.fulfill({ status: 200, body: await readFile(join(modelDir, file)), headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } });
      } catch {
        return route.fulfill({ status: 404 });
      }
    }
    return route.fulfill({ status: 404 });
  });
  return {
    take: () => {
      const b = uploaded;
      uploaded = null;
      return b;
    },
  };
}

/** Open `${base}runner.html` in a routed page and wait until the runner is ready. */
export async function loadRunnerPage(page: Page, base: string, timeoutMs = 120_000): Promise<void> {
  await page.goto(`${base}runner.html`, { timeout: timeoutMs });
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: timeoutMs });
}

export interface RunnerSession {
  page: Page;
  /** Where Vite serves the project (the viewer is at the root). */
  base: string;
  routes: RunnerRoutes;
  close(): Promise<void>;
}

/**
 * Serve the project with Vite (its own config: COOP/COEP, wasm assets), open runner.html in headless
 * Chromium, and answer `/__exray/model/<file>` from `modelDir` and `/__exray/result` uploads.
 */
export async function openRunnerPage(modelDir: string, opts: { device?: string; log?: (line: string) => void } = {}): Promise<RunnerSession> {
  const { createServer } = await import('vite');
  const { chromium, devices } = await import('playwright-core');
  const descriptor = opts.device ? devices[opts.device] : undefined;
  if (opts.device && !descriptor) throw new ExrayInputError(opts.device, 'unknown device name (use a Playwright device, e.g. "Pixel 7")');
  const server = await createServer({ server: { port: 0, host: '127.0.0.1' }, logLevel: 'error', clearScreen: false });
  await server.listen();
  const base = server.resolvedUrls?.local[0];
  const browser = await chromium.launch(chromiumLaunchOptions()).catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  const close = async (): Promise<void> => {
    await browser.close();
    await server.close();
  };
  try {
    if (!base) throw new Error('vite did not report a local URL');
    const context = await browser.newContext(descriptor ?? {});
    const page = await context.newPage();
    const routes = await routeRunnerFiles(page, modelDir);
    page.on('console', (m) => {
      if (m.type() === 'error') opts.log?.(`[browser] ${m.text()}`);
    });
    await loadRunnerPage(page, base);
    return { page, base, routes, close };
  } catch (e) {
    await close();
    throw e;
  }
}
