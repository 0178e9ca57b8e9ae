/**
 * `exray farm` as a library: models × inputs × backends × devices through Playwright.
 *
 * 1. inputs: photos pre-processed per the model card exactly as `exray trace --image` does
 *    (prepareInput), tensor files as `--input`;
 * 2. references: once per model × input in Node (traceInNode, as `exray reference`), reused by every
 *    device;
 * 3. the page: the built dist/ served by startServer (the `exray serve` server, loopback only, a temp
 *    data dir); each cell opens runner.html on its device, model files and the upload travel through
 *    Playwright routes (src/cli/browser.ts), and runs are the page's own worker jobs (`exrayRun`);
 * 4. a bounded pool of cells with timeouts and retries (pool.ts); a lost device fails its cells only;
 * 5. compare every input, judge the cell, diagnose divergent cells (runDiagnosis), write the report.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareTraces, type Comparison } from '../compare/index.ts';
import { ExrayInputError } from '../errors.ts';
import type { Trace } from '../trace/types.ts';
import { encodeTraceNode } from '../io/zlib-native.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { BackendName } from '../viewer/worker/protocol.ts';
import { onnxUnsupported } from '../viewer/worker/protocol.ts';
import { cellAccuracy, breaksTolerance, type CellAccuracy } from './accuracy.ts';
import { expandInputs, fillFromCard, prepareOptions, type FarmInput } from './inputs.ts';
import { sanitizeName, type FarmBackend, type FarmConfig } from './config.ts';
import { knownEmulations, LocalChromium, makeDevice, type FarmDevice } from './devices.ts';
import { FinalError, runPool, type Outcome, type PoolTask } from './pool.ts';
import { cellDetail, reportJson, type CellDetail } from './report-data.ts';
import { indexHtml, inlineScriptText, junitXml, SUMMARY_SCHEMA_VERSION, type CellEnvironment, type CellSummary, type FarmSummary, type ReportApp } from './report.ts';


export interface FarmModel {
  name: string;
  path: string;
  dir: string;
  onnx: boolean;
  inputs: FarmInput[];
  backends: FarmBackend[];
}

export interface FarmHooks {
  log?: (line: string) => void;
  onCellStart?: (id: string) => void;
  onCellEnd?: (id: string, ok: boolean) => void;
  /** Called once the cells are known. */
  onPlan?: (cells: number) => void;
  /** Tests: the device objects once made (e.g. to watch them). */
  onDevices?: (devices: FarmDevice[]) => void;
}

export interface FarmRunResult {
  summary: FarmSummary;
  outDir: string;
  exitCode: 0 | 1;
}

async function resolveModels(cfg: FarmConfig, where: string): Promise<FarmModel[]> {
  const { isOnnxModelPath } = await import('../reference/ort-node.ts');
  const { modelDirOf } = await import('../reference/trace-node.ts');
  const { modelNameOf } = await import('../models/load-node.ts');
  const models: FarmModel[] = [];
  for (const [k, m] of cfg.models.entries()) {
    const path = typeof m === 'string' ? m : m.path;
    if (!existsSync(path)) throw new ExrayInputError(where, `models[${k}]: ${path} does not exist`);
    const dir = await modelDirOf(path);
    const inputs = await expandInputs(typeof m === 'string' ? cfg.inputs ?? [] : m.inputs ?? cfg.inputs ?? [], where);
    // A model file's own name (`facemesh.json` → facemesh), so models sharing a folder stay apart.
    let name = sanitizeName(await modelNameOf(path));
    while (models.some((x) => x.name === name)) name = `${name}_`;
    const backends = typeof m === 'string' ? cfg.backends : m.backends ?? cfg.backends;
    models.push({ name, path, dir, onnx: await isOnnxModelPath(path), inputs, backends: [...backends] });
  }
  return models;
}

interface Prepared {
  input: FarmInput;
  feed: Awaited<ReturnType<typeof import('../cli/commands/trace.ts').prepareInput>>;
  ref: Trace;
  refPath: string;
}

/** Why a backend cannot run this model at all (skip without opening a page), or null. */
export function staticSkip(model: FarmModel, backend: FarmBackend): string | null {
  if (model.onnx) {
    if (backend === 'webgl-f16') return 'ONNX: half-float WebGL is a TF.js WebGL option';
    return onnxUnsupported(backend as BackendName);
  }
  return null;
}

/** Is the backend there on this device's page? (null: yes; else the reason to skip). */
export async function probeBackend(page: import('playwright-core').Page, backend: FarmBackend): Promise<string | null> {
  if (backend === 'webgpu') {
    const ok = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu) return 'navigator.gpu is missing (not a secure context, or no WebGPU)';
      const adapter = await gpu.requestAdapter().catch(() => null);
      return adapter ? null : 'no WebGPU adapter';
    });
    return ok ? `webgpu unavailable: ${ok}` : null;
  }
  if (backend === 'webgl' || backend === 'webgl-f16') {
    const ok = await page.evaluate(() => {
      const c = document.createElement('canvas');
      return Boolean(c.getContext('webgl2') ?? c.getContext('webgl'));
    });
    return ok ? null : 'webgl unavailable: no WebGL context';
  }
  return null;
}

function environmentOf(t: Trace): CellEnvironment {
  const e = t.header.environment;
  return {
    userAgent: e.userAgent,
    platform: e.platform,
    hardwareConcurrency: e.hardwareConcurrency,
    floatPrecision: e.floatPrecision ?? null,
    gpuRenderer: e.webgpu ? `${e.webgpu.vendor}` : (e.webgl?.renderer ?? null),
    webglFloatTextures: e.webgl?.floatTextures ?? null,
    crossOriginIsolated: e.crossOriginIsolated ?? null,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface CellPlan {
  id: string;
  model: FarmModel;
  device: FarmDevice;
  backend: FarmBackend;
  skip: string | null;
}

interface CellRun {
  skipped: string | null;
  traces: { input: FarmInput; trace: Trace; path: string }[];
  comparisons: Comparison[];
}

/** Build the page when dist/ lacks runner.html or is older than its sources (as `exray serve` does). */
export async function ensurePageBuilt(root: string, log: (l: string) => void): Promise<string> {
  const { buildIsStale } = await import('../cli/commands/serve.ts');
  const dist = join(root, 'dist');
  if ((await buildIsStale(root)) || !existsSync(join(dist, 'runner.html')) || !existsSync(join(dist, 'farm-report.js'))) {
    log('exray farm: building the page (vite build)…');
    const { spawn } = await import('node:child_process');
    const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    // A production build whatever NODE_ENV this process has (see buildPage in serve.ts).
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
      child.on('error', fail);
      child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`vite build exited with code ${code}`))));
    });
  }
  if (!existsSync(join(dist, 'runner.html'))) throw new ExrayInputError(dist, 'the runner page is not built (vite build makes dist/runner.html)');
  return dist;
}

/** The report page's script from the build, ready to inline (null when the build has none). */
async function reportApp(dist: string): Promise<ReportApp | null> {
  const js = await readFile(join(dist, 'farm-report.js'), 'utf8').catch(() => null);
  if (js === null) return null;
  const script = inlineScriptText(js);
  return { script, sha256: createHash('sha256').update(script).digest('base64') };
}

export async function runFarm(cfg: FarmConfig, opts: { configFile: string; root?: string; build?: boolean } & FarmHooks): Promise<FarmRunResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const where = opts.configFile;
  const root = opts.root ?? process.cwd();

  // ---- config checks that need the disk or Playwright: all before anything runs (exit code 2) ----
  const emulations = await knownEmulations();
  for (const [k, d] of cfg.devices.entries()) {
    if ('emulate' in d && !emulations.has(d.emulate)) throw new ExrayInputError(where, `devices[${k}].emulate: unknown Playwright device "${d.emulate}" (e.g. "Pixel 7", "iPhone 13", "Desktop Chrome")`);
  }
  const models = await resolveModels(cfg, where);
  const outDir = resolve(cfg.out);
  await mkdir(outDir, { recursive: true });

  // ---- inputs and references (Node) ----
  const { prepareInput, cardFor } = await import('../cli/commands/trace.ts');
  const { traceInNode } = await import('../reference/trace-node.ts');
  const prepared = new Map<string, Prepared[]>();
  const refList: FarmSummary['reference']['traces'] = [];
  for (const m of models) {
    const list: Prepared[] = [];
    for (const input of m.inputs) {
      const feed = await prepareInput(m.path, prepareOptions(input));
      if (input.kind === 'set') {
        const f = fillFromCard(feed.feed, (await cardFor(m.path))?.inputs);
        feed.feed = f.feed;
        if (f.filled.length) log(`${m.name} × ${input.name}: card defaults ${f.filled.join(', ')}`);
      }
      log(`reference: ${m.name} × ${input.name} on ${cfg.reference}`);
      const ref = await traceInNode({
        model: m.path, backend: cfg.reference, feed: feed.feed, feedFile: feed.feedFile, capture: 'tensors', runs: 1, warmup: 0, label: 'reference',
        ...(feed.source ? { source: feed.source } : {}), ...(feed.preprocess ? { preprocess: feed.preprocess } : {}),
      });
      const refPath = join('reference', m.name, `${sanitizeName(input.name)}.exray`);
      await mkdir(join(outDir, 'reference', m.name), { recursive: true });
      await writeFileAtomic(join(outDir, refPath), encodeTraceNode(ref));
      refList.push({ model: m.name, input: input.name, path: refPath });
      list.push({ input, feed, ref, refPath });
    }
    prepared.set(m.name, list);
  }

  // ---- the page, served as `exray serve` serves it ----
  const dist = opts.build === false ? join(root, 'dist') : await ensurePageBuilt(root, log);
  if (!existsSync(join(dist, 'runner.html'))) throw new ExrayInputError(dist, 'the runner page is not built: run `npx vite build`');
  const { startServer } = await import('../server/serve.ts');
  const dataDir = await mkdtemp(join(tmpdir(), 'exray-farm-'));
  const server = await startServer({ dataDir, staticDir: dist, port: 0, loopback: ['127.0.0.1'], lanHosts: [], locate: null, samples: null });
  const base = `http://127.0.0.1:${server.port}/`;
  const local = new LocalChromium();
  const devices: FarmDevice[] = [];
  try {
    for (const d of cfg.devices) devices.push(await makeDevice(d, local, base, server.port));
    opts.onDevices?.(devices);

    const plans: CellPlan[] = [];
    for (const model of models) for (const device of devices) for (const backend of model.backends) {
      plans.push({ id: `${model.name} › ${device.name} › ${backend}`, model, device, backend, skip: staticSkip(model, backend) });
    }
    opts.onPlan?.(plans.length);

    const { runnerRequestFor, routeRunnerFiles, loadRunnerPage, runOnRunnerPage } = await import('../cli/browser.ts');
    const runCell = async (plan: CellPlan, signal: AbortSignal): Promise<CellRun> => {
      const { device, model, backend } = plan;
      const { page, close } = await device.openPage();
      const onAbort = (): void => void close();
      signal.addEventListener('abort', onAbort);
      const debug = process.env.EXRAY_DEBUG ? (what: string, since: number): void => log(`${plan.id}: ${what} ${Math.round(performance.now() - since)} ms`) : null;
      let t = performance.now();
      try {
        const routes = await routeRunnerFiles(page, model.dir);
        await loadRunnerPage(page, device.baseUrl(), Math.min(120_000, cfg.timeout * 1000));
        debug?.('page', t);
        const missing = await probeBackend(page, backend);
        if (missing) return { skipped: missing, traces: [], comparisons: [] };
        const out: CellRun = { skipped: null, traces: [], comparisons: [] };
        for (const p of prepared.get(model.name) ?? []) {
          const browserBackend: BackendName = backend === 'webgl-f16' ? 'webgl' : backend;
          const { request } = await runnerRequestFor({
            model: model.path, backend: browserBackend, feed: p.feed.feed, feedFile: p.feed.feedFile,
            capture: cfg.options.capture, runs: cfg.options.runs, warmup: cfg.options.warmup,
            f16: backend === 'webgl-f16',
            ...(p.feed.source ? { source: p.feed.source } : {}), ...(p.feed.preprocess ? { preprocess: p.feed.preprocess } : {}),
          });
          request.label = `${device.name} ${backend}`;
          t = performance.now();
          const trace = await runOnRunnerPage(page, request, routes);
          debug?.(`run ${p.input.name}`, t);
          if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
          const dir = join('traces', model.name, sanitizeName(device.name), sanitizeName(backend));
          const path = join(dir, `${sanitizeName(p.input.name)}.exray`);
          await mkdir(join(outDir, dir), { recursive: true });
          await writeFileAtomic(join(outDir, path), encodeTraceNode(trace));
          out.traces.push({ input: p.input, trace, path });
          out.comparisons.push(compareTraces(trace, p.ref, { ...(cfg.tolerance.nrmse !== undefined ? { tolerance: { nrmse: cfg.tolerance.nrmse } } : {}) }));
        }
        return out;
      } catch (e) {
        // A page that died with its device: name the device, and do not retry on it.
        // The browser's `disconnected` event may trail the failed call by a moment.
        if (!device.lost()) await new Promise((r) => setTimeout(r, 300));
        const lost = device.lost();
        if (lost) throw new FinalError(lost);
        throw e;
      } finally {
        signal.removeEventListener('abort', onAbort);
        await close();
      }
    };

    const runnable = plans.filter((p) => !p.skip);
    const tasks: PoolTask<CellRun>[] = runnable.map((p) => ({ id: p.id, run: (signal) => runCell(p, signal) }));
    for (const p of plans) if (p.skip) opts.onCellEnd?.(p.id, true);
    const outcomes = await runPool(tasks, {
      jobs: cfg.jobs,
      timeoutMs: cfg.timeout * 1000,
      retries: cfg.retries,
      ...(opts.onCellStart ? { onStart: opts.onCellStart } : {}),
      onEnd: (id, o) => opts.onCellEnd?.(id, o.ok),
    });
    const byId = new Map<string, Outcome<CellRun>>();
    runnable.forEach((p, k) => byId.set(p.id, outcomes[k]!));

    // ---- judge, diagnose (sequential, in Node, after the pool: it is CPU-bound), report ----
    const { runDiagnosis } = await import('../reference/diagnose-node.ts');
    const cells: CellSummary[] = [];
    const details: Record<string, CellDetail> = {};
    for (const p of plans) {
      const base: Omit<CellSummary, 'status' | 'reason'> = {
        id: p.id, model: p.model.name, device: p.device.name, backend: p.backend, attempts: 0, seconds: 0,
        environment: null, latency: null, accuracy: null, diagnosis: null, traces: [],
      };
      if (p.skip) {
        cells.push({ ...base, status: 'skipped', reason: p.skip });
        continue;
      }
      const o = byId.get(p.id)!;
      base.attempts = o.attempts;
      base.seconds = o.ms / 1000;
      if (!o.ok) {
        cells.push({ ...base, status: 'error', reason: o.error });
        continue;
      }
      const run = o.value;
      if (run.skipped) {
        cells.push({ ...base, status: 'skipped', reason: run.skipped });
        continue;
      }
      const first = run.traces[0]!.trace;
      base.environment = environmentOf(first);
      base.traces = run.traces.map((t) => ({ input: t.input.name, path: t.path }));
      const medians = run.traces.map((t) => t.trace.header.timing?.medianMs).filter((x): x is number => typeof x === 'number');
      if (medians.length) base.latency = { medianMs: median(medians), firstRunMs: first.header.timing?.firstRunMs ?? medians[0]! };
      const accuracy: CellAccuracy = cellAccuracy(run.comparisons);
      base.accuracy = accuracy;
      details[p.id] = cellDetail(run.traces.map((t) => t.input.name), run.comparisons, run.traces.map((t) => t.trace), prepared.get(p.model.name)?.[0]?.ref ?? null);
      if (!breaksTolerance(accuracy, cfg.tolerance.top1)) {
        cells.push({ ...base, status: 'passed', reason: null });
        continue;
      }
      const reason = accuracy.divergentInputs > 0
        ? `${accuracy.divergentInputs}/${accuracy.inputs} inputs diverge from the reference (max output nrmse ${accuracy.outputNrmse.max?.toPrecision(3) ?? 'n/a'})`
        : `top-1 agreement ${(accuracy.top1Agreement! * 100).toFixed(0)}% < ${(cfg.tolerance.top1 * 100).toFixed(0)}%`;
      if (cfg.diagnose) {
        const k = accuracy.firstDivergentInput ?? 0;
        const t = run.traces[k]!;
        log(`diagnose: ${p.id} (${t.input.name})`);
        try {
          const d = await runDiagnosis({
            edge: t.trace, edgeFile: join(outDir, t.path), model: p.model.path, backend: cfg.reference,
            ...(t.input.kind === 'photo' ? { image: t.input.file } : {}),
          });
          base.diagnosis = {
            cause: d.diagnosis.causes[0]?.code ?? 'none',
            causes: d.diagnosis.causes.map((c) => c.code),
            firstDivergentNode: d.diagnosis.firstDivergentNode ?? accuracy.firstDivergentNode,
            summary: d.diagnosis.summary,
            input: t.input.name,
          };
        } catch (e) {
          log(`diagnose: ${p.id}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      cells.push({ ...base, status: 'failed', reason });
    }

    const totals = {
      cells: cells.length,
      passed: cells.filter((c) => c.status === 'passed').length,
      failed: cells.filter((c) => c.status === 'failed').length,
      errors: cells.filter((c) => c.status === 'error').length,
      skipped: cells.filter((c) => c.status === 'skipped').length,
    };
    const causes: Record<string, string[]> = {};
    for (const c of cells) if (c.diagnosis) (causes[c.diagnosis.cause] ??= []).push(c.id);
    const exitCode: 0 | 1 = totals.failed + totals.errors > 0 ? 1 : 0;
    const summary: FarmSummary = {
      schemaVersion: SUMMARY_SCHEMA_VERSION,
      tool: 'exray farm',
      createdAt: new Date().toISOString(),
      seconds: (performance.now() - t0) / 1000,
      reference: { backend: cfg.reference, traces: refList },
      tolerance: { nrmse: cfg.tolerance.nrmse ?? null, top1: cfg.tolerance.top1 },
      models: models.map((m) => m.name),
      devices: devices.map((d) => ({ name: d.name, kind: d.kind })),
      backends: [...new Set(models.flatMap((m) => m.backends))],
      totals,
      causes,
      exitCode,
      cells,
    };
    await writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFileAtomic(join(outDir, 'junit.xml'), junitXml(summary));
    await writeFileAtomic(join(outDir, 'index.html'), indexHtml(summary, { app: await reportApp(dist), json: reportJson({ summary, details }) }));
    return { summary, outDir, exitCode };
  } finally {
    for (const d of devices) await d.close().catch(() => {});
    await local.close();
    await server.close().catch(() => {});
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  }
}
