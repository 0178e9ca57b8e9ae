/**
 * The engine behind `exray/playwright`: one farm cell (src/farm/run.ts), run from inside someone
 * else's Playwright test. One ExrayWorker per Playwright worker process holds what is worth sharing
 * between tests: the page server (started on first use) and the Node references, each computed once
 * per model × input × reference backend. Nothing here depends on @playwright/test, so the fixture
 * module stays a thin adapter and this one can be driven from plain playwright-core.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic.ts';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { compareTraces, type Comparison } from '../compare/index.ts';
import { ExrayInputError } from '../errors.ts';
import { encodeTraceNode } from '../io/zlib-native.ts';
import type { Trace } from '../trace/types.ts';
import { breaksTolerance, cellAccuracy } from './accuracy.ts';
import { FARM_BACKENDS, sanitizeName, type FarmBackend } from './config.ts';
import { expandInputs, prepareOptions, type FarmInput } from './inputs.ts';
import { ensurePageBuilt, probeBackend, staticSkip, type FarmModel } from './run.ts';

export type ExrayReferenceBackend = 'cpu' | 'wasm';

export interface ExrayTraceOptions {
  /** A TF.js model directory or model.json, or an `.onnx` file (or a directory holding one and its card). */
  model: string;
  /** A photo (pre-processed as the model card says) or a tensor file (`.npy`, `.json`). */
  input: string;
  /** `webgl-f16` is WebGL with half-float textures: a phone GPU, emulated. */
  backend: FarmBackend;
  /** Half-float textures on `webgl` (the same as backend `webgl-f16`). */
  f16?: boolean;
  /** What each node records (default `tensors`: needed for per-layer errors and the diagnosis). */
  capture?: 'tensors' | 'stats';
  /** Timed runs (default 1). */
  runs?: number;
  /** Untimed runs before them (default 0). */
  warmup?: number;
  /** The Node reference backend (default `cpu`, as the farm). */
  reference?: ExrayReferenceBackend;
  /**
   * Run the diagnosis now (it is CPU-bound: seconds). Default: only when the run breaks the default
   * float32 tolerance, so a clean run pays nothing and a failing `toMatchReference` can name the cause.
   */
  diagnose?: boolean;
}

/** The diagnosis of a divergent run, as the farm reports it for a failed cell. */
export interface ExrayDiagnosis {
  /** Most likely cause code (`float16`, `kernel`, `normalization`, … docs/diagnose.md). */
  cause: string;
  causes: string[];
  firstDivergentNode: string | null;
  summary: string;
}

/** What `exray.trace` returns; `expect(trace).toMatchReference()` judges it. */
export interface ExrayTrace {
  model: string;
  input: string;
  backend: FarmBackend;
  referenceBackend: ExrayReferenceBackend;
  /** The device's trace (its environment is in the header). */
  edge: Trace;
  reference: Trace;
  /** compareTraces(edge, reference) with the default (float32) tolerance. */
  comparison: Comparison;
  /** The `.exray` files attached to the test report. */
  files: { edge: string; reference: string };
  diagnosis: ExrayDiagnosis | null;
  /** Why `diagnosis` is null when it is (not needed, not asked for, or it failed). */
  diagnosisNote: string | null;
}

/** How the engine reaches the running test (the fixture passes testInfo's methods). */
export interface ExrayTestHooks {
  /** Mark the test skipped; does not return (Playwright throws). */
  skip(reason: string): never;
  /** Attach a file to the report; resolves to the attached copy's path. */
  attach(name: string, path: string): Promise<string>;
}

interface Prepared {
  input: FarmInput;
  feed: Awaited<ReturnType<typeof import('../cli/commands/trace.ts').prepareInput>>;
  ref: Trace;
  refFile: string;
}

interface Served {
  base: string;
  close(): Promise<void>;
}

/** The exray package root (src/farm/ or lib/farm/ → ../..): where its dist/ and vite live. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const BUILD_LOCK_STALE_MS = 10 * 60_000;

/**
 * dist/ with runner.html, built when missing. Parallel Playwright workers are separate processes that
 * would each start `vite build` into the same dist/: the first takes a lock (an atomic mkdir), the
 * others wait for its runner.html. A page that exists is used as it is, even if stale: rebuilding
 * dist/ under a running suite (or a `vite preview` serving it) would pull files from under it.
 */
export async function runnerPageDist(root: string, log: (line: string) => void): Promise<string> {
  const dist = join(root, 'dist');
  const runner = join(dist, 'runner.html');
  if (existsSync(runner)) return dist;
  const lock = join(root, '.exray-build.lock');
  const howTo = `build it with \`npx vite build\` in ${root} (e.g. as the webServer or globalSetup of your Playwright config)`;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ExrayInputError(runner, `the runner page is missing and ${root} is not writable: ${howTo}`);
    }
    const held = await stat(lock).catch(() => null);
    if (held && Date.now() - held.mtimeMs > BUILD_LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 500));
    if (existsSync(runner)) return dist;
  }
  try {
    if (existsSync(runner)) return dist;
    await ensurePageBuilt(root, log);
    return dist;
  } catch (e) {
    throw new ExrayInputError(runner, `the runner page is missing and building it failed (${e instanceof Error ? e.message : String(e)}): ${howTo}`);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function checkOptions(o: ExrayTraceOptions): void {
  const where = 'exray.trace';
  if (typeof o.model !== 'string' || !o.model) throw new ExrayInputError(where, 'model: expected a model path');
  if (typeof o.input !== 'string' || !o.input) throw new ExrayInputError(where, 'input: expected a photo or tensor file path');
  if (!FARM_BACKENDS.includes(o.backend)) throw new ExrayInputError(where, `backend: expected one of ${FARM_BACKENDS.join(', ')}, got ${JSON.stringify(o.backend)}`);
  if (o.f16 && o.backend !== 'webgl' && o.backend !== 'webgl-f16') throw new ExrayInputError(where, `f16: half-float textures are a WebGL option, not for backend ${o.backend}`);
  if (o.capture !== undefined && o.capture !== 'tensors' && o.capture !== 'stats') throw new ExrayInputError(where, `capture: expected "tensors" or "stats", got ${JSON.stringify(o.capture)}`);
  for (const [k, min] of [['runs', 1], ['warmup', 0]] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > 100)) throw new ExrayInputError(where, `${k}: expected an integer in ${min}…100, got ${v}`);
  }
  if (o.reference !== undefined && o.reference !== 'cpu' && o.reference !== 'wasm') throw new ExrayInputError(where, `reference: expected "cpu" or "wasm", got ${JSON.stringify(o.reference)}`);
}

export class ExrayWorker {
  private served: Promise<Served> | null = null;
  private readonly prepared = new Map<string, Promise<Prepared>>();
  private tmp: Promise<string> | null = null;
  private files = 0;

  constructor(
    private readonly root: string = PACKAGE_ROOT,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** The runner page's base URL on loopback; the server starts on the first call. */
  baseUrl(): Promise<string> {
    this.served ??= this.serve();
    // A failed start is not cached: the next test tries again (and reports its own error).
    this.served.catch(() => {
      this.served = null;
    });
    return this.served.then((s) => s.base);
  }

  private async serve(): Promise<Served> {
    const dist = await runnerPageDist(this.root, this.log);
    const { startServer } = await import('../server/serve.ts');
    const dataDir = await mkdtemp(join(tmpdir(), 'exray-playwright-'));
    try {
      const server = await startServer({ dataDir, staticDir: dist, port: 0, loopback: ['127.0.0.1'], lanHosts: [], locate: null, samples: null });
      return {
        base: `http://127.0.0.1:${server.port}/`,
        close: async () => {
          await server.close().catch(() => {});
          await rm(dataDir, { recursive: true, force: true }).catch(() => {});
        },
      };
    } catch (e) {
      await rm(dataDir, { recursive: true, force: true }).catch(() => {});
      throw e;
    }
  }

  private async tmpFile(name: string): Promise<string> {
    this.tmp ??= mkdtemp(join(tmpdir(), 'exray-playwright-traces-'));
    // Playwright names an attached copy by a hash of the source path: every file gets its own path.
    return join(await this.tmp, `${++this.files}-${name}`);
  }

  /** The input, as the farm prepares it, and its Node reference: once per worker. */
  reference(model: FarmModel, inputFile: string, backend: ExrayReferenceBackend): Promise<Prepared> {
    const key = JSON.stringify([resolve(model.path), resolve(inputFile), backend]);
    let p = this.prepared.get(key);
    if (!p) {
      p = this.computeReference(model, inputFile, backend);
      this.prepared.set(key, p);
      p.catch(() => this.prepared.delete(key));
    }
    return p;
  }

  private async computeReference(model: FarmModel, inputFile: string, backend: ExrayReferenceBackend): Promise<Prepared> {
    const st = await stat(inputFile).catch(() => null);
    if (!st) throw new ExrayInputError(inputFile, 'input does not exist');
    if (!st.isFile()) throw new ExrayInputError(inputFile, 'input: expected one photo or tensor file, not a folder');
    const inputs = await expandInputs([inputFile], inputFile);
    const input = inputs[0];
    if (!input) throw new ExrayInputError(inputFile, 'not a photo or a tensor file (.npy, .json)');
    if (inputs.length > 1) throw new ExrayInputError(inputFile, `${inputs.length} input sets: exray.trace runs one (give a sets.json with one set)`);
    const { prepareInput } = await import('../cli/commands/trace.ts');
    const { traceInNode } = await import('../reference/trace-node.ts');
    const feed = await prepareInput(model.path, prepareOptions(input));
    const ref = await traceInNode({
      model: model.path, backend, feed: feed.feed, feedFile: feed.feedFile, capture: 'tensors', runs: 1, warmup: 0, label: 'reference',
      ...(feed.source ? { source: feed.source } : {}), ...(feed.preprocess ? { preprocess: feed.preprocess } : {}),
    });
    const refFile = await this.tmpFile(`${sanitizeName(model.name)}-${sanitizeName(input.name)}-reference-${backend}.exray`);
    await writeFileAtomic(refFile, encodeTraceNode(ref));
    return { input, feed, ref, refFile };
  }

  /** One run of the model on a new page of `page`'s context, compared with its Node reference. */
  async trace(page: Page, opts: ExrayTraceOptions, hooks: ExrayTestHooks): Promise<ExrayTrace> {
    checkOptions(opts);
    const { isOnnxModelPath } = await import('../reference/ort-node.ts');
    const { modelDirOf } = await import('../reference/trace-node.ts');
    if (!existsSync(opts.model)) throw new ExrayInputError(opts.model, 'model does not exist');
    const backend: FarmBackend = opts.f16 && opts.backend === 'webgl' ? 'webgl-f16' : opts.backend;
    const dir = await modelDirOf(opts.model);
    const model: FarmModel = {
      name: sanitizeName(basename(resolve(dir))), path: opts.model, dir, onnx: await isOnnxModelPath(opts.model), inputs: [], backends: [backend],
    };
    const skip = staticSkip(model, backend);
    if (skip) hooks.skip(skip);
    const referenceBackend = opts.reference ?? 'cpu';

    // The Node reference (CPU-bound, in this process) overlaps the page load (in the browser's).
    const preparing = this.reference(model, opts.input, referenceBackend);
    preparing.catch(() => {});
    const base = await this.baseUrl();
    const { runnerRequestFor, routeRunnerFiles, loadRunnerPage, runOnRunnerPage } = await import('../cli/browser.ts');
    // A page of its own in the caller's context: the same device emulation and (possibly remote)
    // browser, and the caller's page is never navigated.
    const runner = await page.context().newPage();
    let edge: Trace;
    let prepared: Prepared;
    try {
      const routes = await routeRunnerFiles(runner, model.dir);
      await loadRunnerPage(runner, base);
      const missing = await probeBackend(runner, backend);
      if (missing) hooks.skip(missing);
      prepared = await preparing;
      const { request } = await runnerRequestFor({
        model: model.path, backend: backend === 'webgl-f16' ? 'webgl' : backend, feed: prepared.feed.feed, feedFile: prepared.feed.feedFile,
        capture: opts.capture ?? 'tensors', runs: opts.runs ?? 1, warmup: opts.warmup ?? 0, f16: backend === 'webgl-f16',
        ...(prepared.feed.source ? { source: prepared.feed.source } : {}), ...(prepared.feed.preprocess ? { preprocess: prepared.feed.preprocess } : {}),
      });
      request.label = `exray/playwright ${backend}`;
      edge = await runOnRunnerPage(runner, request, routes);
    } finally {
      await runner.close().catch(() => {});
    }

    const comparison = compareTraces(edge, prepared.ref);
    const stem = `${sanitizeName(model.name)}-${sanitizeName(prepared.input.name)}-${sanitizeName(backend)}`;
    const edgeTmp = await this.tmpFile(`${stem}.exray`);
    await writeFileAtomic(edgeTmp, encodeTraceNode(edge));
    const files = {
      edge: await hooks.attach(`${stem}.exray`, edgeTmp),
      reference: await hooks.attach(`${stem}-reference-${referenceBackend}.exray`, prepared.refFile),
    };

    let diagnosis: ExrayDiagnosis | null = null;
    let diagnosisNote: string | null = null;
    const wanted = opts.diagnose ?? breaksTolerance(cellAccuracy([comparison]), 1);
    if (!wanted) {
      diagnosisNote = opts.diagnose === false
        ? 'not diagnosed (exray.trace was called with diagnose: false)'
        : 'not diagnosed: the run is within the default float32 tolerance (pass diagnose: true to exray.trace to diagnose it anyway)';
    } else {
      try {
        const { runDiagnosis } = await import('../reference/diagnose-node.ts');
        const d = await runDiagnosis({
          edge, edgeFile: files.edge, model: model.path, backend: referenceBackend,
          ...(prepared.input.kind === 'photo' ? { image: prepared.input.file } : {}),
        });
        diagnosis = {
          cause: d.diagnosis.causes[0]?.code ?? 'none',
          causes: d.diagnosis.causes.map((c) => c.code),
          firstDivergentNode: d.diagnosis.firstDivergentNode ?? comparison.firstDivergent?.name ?? null,
          summary: d.diagnosis.summary,
        };
      } catch (e) {
        diagnosisNote = `the diagnosis failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    return {
      model: model.path, input: opts.input, backend, referenceBackend,
      edge, reference: prepared.ref, comparison, files, diagnosis, diagnosisNote,
    };
  }

  async close(): Promise<void> {
    const served = await this.served?.catch(() => null);
    await served?.close();
    const tmp = await this.tmp?.catch(() => null);
    if (tmp) await rm(tmp, { recursive: true, force: true }).catch(() => {});
  }
}
