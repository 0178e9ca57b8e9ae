/**
 * `exray farm` end to end: real Chromium, real models (emotion: TF.js; PaddleOCR direction
 * classifier: ONNX), a real photo, nothing mocked. One run crosses two emulated devices, a real
 * `playwright run-server --unsafe` on loopback standing in for a remote farm (the config's headers
 * carry exray's launch options: Debian's chromium), a chromium.launchServer that is closed mid-run,
 * and an endpoint that is not there at all:
 *
 * - emotion on wasm is clean; emotion on half-float WebGL (webgl-f16) breaks the tolerance and is
 *   diagnosed `float16`; the ONNX model's webgl-f16 cell is skipped with the reason;
 * - the device that disappears and the unreachable one fail only their own cells;
 * - summary.json, junit.xml, index.html and every .exray are written; exit code 1 (the f16 cells).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserServer } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReport } from './farm-report-helpers.ts';
import { chromiumLaunchOptions } from '../src/cli/chromium.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { parseFarmConfig } from '../src/farm/config.ts';
import { runFarm, type FarmRunResult } from '../src/farm/run.ts';
import type { FarmSummary } from '../src/farm/report.ts';

let tmp: string;
let farm: ChildProcess | null = null;
let flaky: BrowserServer | null;
let result: FarmRunResult;
let killedAt: string | null = null;
const started: string[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'exray-farm-e2e-'));
  const launch = { ...chromiumLaunchOptions(), host: '127.0.0.1', port: 0 };
  // `playwright run-server` as a farm machine would run it; --unsafe lets the client choose the browser.
  const child = spawn(process.execPath, [join('node_modules', 'playwright-core', 'cli.js'), 'run-server', '--port', '0', '--host', '127.0.0.1', '--unsafe'], { stdio: ['ignore', 'pipe', 'inherit'] });
  farm = child;
  const farmEndpoint = await new Promise<string>((done, fail) => {
    let text = '';
    const timer = setTimeout(() => fail(new Error(`run-server did not start: ${text}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      text += b.toString();
      const m = /Listening on (ws:\/\/127\.0\.0\.1:\d+\/)/.exec(text);
      if (m) {
        clearTimeout(timer);
        done(m[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`run-server exited with ${code}: ${text}`)));
  });
  const { executablePath, args } = chromiumLaunchOptions();
  flaky = await chromium.launchServer(launch);
  const cfg = parseFarmConfig({
    models: ['models/emotion', { path: 'models/ppocr-mobile-v2-cls', backends: ['wasm', 'webgl-f16'] }],
    inputs: ['public/samples/chelsea.png'],
    backends: ['wasm', 'webgl-f16'],
    devices: [
      { emulate: 'Pixel 7' },
      { name: 'farm', connect: farmEndpoint, headers: { 'x-playwright-launch-options': JSON.stringify({ executablePath, args, headless: true }) } },
      { name: 'flaky', connect: flaky.wsEndpoint() },
      // Nothing listens on port 1 of loopback: unreachable from the start.
      { name: 'offline', connect: 'ws://127.0.0.1:1/' },
    ],
    jobs: 2,
    retries: 1,
    timeout: 150,
    out: join(tmp, 'report'),
  }, 'e2e config');
  result = await runFarm(cfg, {
    configFile: 'e2e config',
    onCellStart: (id) => {
      started.push(id);
      // The flaky device disappears while its first cell runs (its browser is closed under it).
      if (id.includes('› flaky ›') && flaky) {
        const server = flaky;
        flaky = null;
        killedAt = id;
        setTimeout(() => void server.close(), 1500);
      }
    },
  });
}, 420_000);

afterAll(async () => {
  if (farm && farm.exitCode === null) {
    const exited = new Promise((r) => farm!.once('exit', r));
    farm.kill('SIGTERM');
    await exited;
  }
  await flaky?.close().catch(() => {});
  await rm(tmp, { recursive: true, force: true });
});

function cellOf(s: FarmSummary, model: string, device: string, backend: string) {
  const c = s.cells.find((x) => x.model === model && x.device === device && x.backend === backend);
  if (!c) throw new Error(`no cell ${model} › ${device} › ${backend}`);
  return c;
}

describe('exray farm: 2 models × 4 devices × 2 backends', () => {
  it('clean cells pass, half-float WebGL fails with cause float16, ONNX on webgl-f16 is skipped; exit code 1', () => {
    const s = result.summary;
    expect(result.exitCode).toBe(1);
    expect(s.schemaVersion).toBe(1);
    expect(s.cells.length).toBe(2 * 4 * 2);
    for (const device of ['Pixel 7', 'farm']) {
      const clean = cellOf(s, 'emotion', device, 'wasm');
      expect(clean.status, `${clean.id}: ${clean.reason}`).toBe('passed');
      expect(clean.accuracy!.top1Agreement).toBe(1);
      expect(clean.accuracy!.outputNrmse.max!).toBeLessThan(1e-4);
      expect(clean.accuracy!.nodes.length).toBeGreaterThan(10);
      const f16 = cellOf(s, 'emotion', device, 'webgl-f16');
      expect(f16.status, `${f16.id}: ${f16.reason}`).toBe('failed');
      expect(f16.diagnosis?.cause, f16.diagnosis?.summary).toBe('float16');
      expect(f16.diagnosis!.firstDivergentNode).toBeTruthy();
      // The device's own environment is in its traces: the half-float GPU of the f16 cell.
      expect(f16.environment!.floatPrecision).toBe(16);
      expect(f16.environment!.gpuRenderer).toMatch(/SwiftShader/);
      const onnx = cellOf(s, 'ppocr-mobile-v2-cls', device, 'wasm');
      expect(onnx.status, `${onnx.id}: ${onnx.reason}`).toBe('passed');
      expect(cellOf(s, 'ppocr-mobile-v2-cls', device, 'webgl-f16')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/TF\.js WebGL option/) });
    }
    expect(cellOf(s, 'emotion', 'Pixel 7', 'wasm').environment!.userAgent).toContain('Pixel 7');
    expect(cellOf(s, 'emotion', 'farm', 'wasm').environment!.userAgent).not.toContain('Pixel 7');
    expect(s.causes.float16!.length).toBe(2);
  });

  it('a device that disappears mid-run and an unreachable one fail only their own cells', () => {
    const s = result.summary;
    expect(killedAt).not.toBeNull();
    for (const c of s.cells) {
      if (c.device === 'flaky' || c.device === 'offline') {
        if (c.status === 'skipped') continue;
        expect(c.status, c.id).toBe('error');
        expect(c.reason, c.id).toMatch(c.device === 'offline' ? /^unreachable: ws:\/\/127\.0\.0\.1:1\// : /device lost|unreachable/);
      } else expect(c.status, `${c.id}: ${c.reason}`).not.toBe('error');
    }
    expect(s.totals).toMatchObject({ cells: 16, passed: 4, failed: 2, errors: 6, skipped: 4 });
  });

  it('writes summary.json, JUnit XML, index.html and every trace', async () => {
    const dir = result.outDir;
    const s = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as FarmSummary;
    expect(s.totals).toEqual(result.summary.totals);
    const xml = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites id="exray farm" name="exray farm" tests="16" failures="8" skipped="4"/);
    expect(xml).toContain('<testcase name="emotion › Pixel 7 › webgl-f16" classname="emotion.Pixel 7"');
    expect(xml).toMatch(/<failure message="[^"]*first divergent node: [^"]+; cause: float16" type="float16">/);
    expect(xml).toMatch(/<skipped message="ONNX: half-float WebGL is a TF\.js WebGL option"\/>/);
    expect(xml).toContain('traces/emotion/Pixel_7/wasm/chelsea.png.exray');
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('emotion');
    // Self-contained: no script or style from anywhere else, and the CSP allows only the inline one.
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link[^>]*\shref=/);
    expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    for (const r of s.reference.traces) expect(existsSync(join(dir, r.path)), r.path).toBe(true);
    // The report opened from disk in Chromium: the interactive table shows every cell, no error.
    const report = await openReport(join(dir, 'index.html'), 'farm-matrix');
    try {
      expect(report.errors).toEqual([]);
      expect(await report.page.locator('[data-testid=farm-cells] tbody tr').count()).toBe(16);
      expect(await report.page.locator('[data-testid=farm-causes]').textContent()).toContain('float16');
      expect(await report.page.locator('[data-testid=farm-model-spread]').count()).toBe(2);
    } finally {
      await report.close();
    }
    for (const c of s.cells) for (const t of c.traces) {
      const bytes = await readFile(join(dir, t.path));
      const trace = decodeTrace(new Uint8Array(bytes), t.path);
      expect(trace.header.label).toBe(`${c.device} ${c.backend}`);
      expect(trace.header.environment.kind).toBe('browser');
    }
  });
});

/**
 * A second run: emotion over a folder of 4 photos on wasm and half-float WebGL; the Silero VAD (ONNX,
 * three inputs) over its sets.json; and a device whose browser has no WebGL at all (a
 * launchServer with --disable-3d-apis), whose WebGL cells are skipped with the probe's reason.
 */
describe('exray farm: a folder of 4 photos × 2 backends, input sets, a device without WebGL', () => {
  const PHOTOS = ['apple.jpg', 'astronaut.png', 'chelsea.png', 'rocket.jpg'];
  let photos: FarmRunResult;
  let noGl: BrowserServer | null = null;

  beforeAll(async () => {
    const folder = join(tmp, 'photos');
    await mkdir(folder, { recursive: true });
    for (const p of PHOTOS) await copyFile(join('public', 'samples', p), join(folder, p));
    const launch = chromiumLaunchOptions();
    noGl = await chromium.launchServer({ ...launch, args: [...launch.args, '--disable-3d-apis'], host: '127.0.0.1', port: 0 });
    const cfg = parseFarmConfig({
      models: [
        { path: 'models/emotion', inputs: [folder] },
        { path: 'models/silero-vad-v5', inputs: ['public/samples/tensors/silero-vad-v5'], backends: ['wasm'] },
      ],
      backends: ['wasm', 'webgl-f16'],
      devices: [{ emulate: 'Pixel 7' }, { name: 'no-webgl', connect: noGl.wsEndpoint() }],
      jobs: 2,
      timeout: 240,
      out: join(tmp, 'photos-report'),
    }, 'photos config');
    photos = await runFarm(cfg, { configFile: 'photos config' });
  }, 420_000);

  afterAll(async () => {
    await noGl?.close().catch(() => {});
  });

  it('a multi-input ONNX model runs from its input sets (missing inputs from the card\'s defaults); a backend the device lacks is skipped, not failed', async () => {
    const s = photos.summary;
    for (const device of ['Pixel 7', 'no-webgl']) {
      const vad = cellOf(s, 'silero-vad-v5', device, 'wasm');
      expect(vad.status, `${vad.id}: ${vad.reason}`).toBe('passed');
      expect(vad.traces.map((t) => t.input)).toEqual(['speech frame', 'silence']);
    }
    const vad = cellOf(s, 'silero-vad-v5', 'Pixel 7', 'wasm');
    const speech = decodeTrace(new Uint8Array(await readFile(join(photos.outDir, vad.traces[0]!.path))), 'speech');
    expect(speech.header.input.tensors.map((t) => t.name).sort()).toEqual(['input', 'sr', 'state']);
    const silence = decodeTrace(new Uint8Array(await readFile(join(photos.outDir, vad.traces[1]!.path))), 'silence');
    const sr = silence.header.input.tensors.find((t) => t.name === 'sr')!;
    expect(Array.from(silence.blobs.get(sr.blob!.id)!)).toEqual([16000]);
    expect(cellOf(s, 'emotion', 'no-webgl', 'webgl-f16')).toMatchObject({ status: 'skipped', reason: 'webgl unavailable: no WebGL context' });
    expect(cellOf(s, 'emotion', 'no-webgl', 'wasm').status).toBe('passed');
    expect(s.totals).toMatchObject({ cells: 6, passed: 4, failed: 1, errors: 0, skipped: 1 });
  });

  it('agreement and the per-layer error spread over the 4 photos, per backend', () => {
    const s = photos.summary;
    const wasm = cellOf(s, 'emotion', 'Pixel 7', 'wasm');
    const f16 = cellOf(s, 'emotion', 'Pixel 7', 'webgl-f16');
    for (const c of [wasm, f16]) {
      expect(c.accuracy!.inputs, c.id).toBe(PHOTOS.length);
      expect(c.traces.map((t) => t.input).sort()).toEqual(PHOTOS);
      expect(c.accuracy!.nodes.length, c.id).toBeGreaterThan(10);
      for (const n of c.accuracy!.nodes) expect(n.median, `${c.id} ${n.key}`).toBeLessThanOrEqual(n.p95);
    }
    expect(wasm.status, wasm.reason ?? '').toBe('passed');
    expect(wasm.accuracy!.top1Agreement).toBe(1);
    // Half-float textures: error grows along the graph, and is far larger than wasm's on every photo.
    expect(f16.status).toBe('failed');
    expect(f16.diagnosis?.cause, f16.diagnosis?.summary).toBe('float16');
    const worst = (c: typeof wasm): number => Math.max(...c.accuracy!.nodes.map((n) => n.p95));
    expect(worst(f16)).toBeGreaterThan(100 * worst(wasm));
    expect(f16.accuracy!.top1Agreement).toBeGreaterThanOrEqual(0);
    expect(f16.accuracy!.top1Agreement).toBeLessThanOrEqual(1);
  });

  it('the report opened from disk: every cell, a click into the half-float cell shows its spread, inputs and nodes; no overflow on a phone', async () => {
    const report = await openReport(join(photos.outDir, 'index.html'), 'farm-photos');
    try {
      const { page } = report;
      expect(await page.locator('[data-testid=farm-cells] tbody tr').count()).toBe(6);
      await page.locator('[data-testid=farm-cells] tbody tr[data-cell="emotion › Pixel 7 › webgl-f16"] a').click();
      const cell = page.locator('[data-testid=farm-cell]');
      await cell.waitFor();
      expect(await cell.getAttribute('data-cell')).toBe('emotion › Pixel 7 › webgl-f16');
      expect(await page.locator('[data-testid=farm-spread-chart] canvas').count()).toBe(1);
      expect(await page.locator('[data-testid=farm-inputs] tbody tr').count()).toBe(PHOTOS.length);
      const nodes = await page.locator('[data-testid=farm-nodes] tbody tr').count();
      expect(nodes).toBe(cellOf(photos.summary, 'emotion', 'Pixel 7', 'webgl-f16').accuracy!.nodes.length);
      expect(await page.locator('[data-testid=farm-diagnosis]').textContent()).toContain('float16');
      // Links to the traces are relative and point at files that are there.
      const href = await page.locator('[data-testid=farm-inputs] tbody tr a').first().getAttribute('href');
      expect(href).toMatch(/^traces\//);
      expect(existsSync(join(photos.outDir, decodeURIComponent(href!)))).toBe(true);
      await report.screenshot('cell');
      expect(await report.overflowsAt(360)).toBe(false);
      await report.screenshot('cell-360');
      // Back to the matrix with the browser's back button (hash navigation).
      await page.goBack();
      await page.locator('[data-testid=farm-cells]').waitFor();
      expect(await report.overflowsAt(412)).toBe(false);
      expect(report.errors).toEqual([]);
    } finally {
      await report.close();
    }
  });
});
