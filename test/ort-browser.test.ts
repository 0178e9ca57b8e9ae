/**
 * The onnxruntime instrumenter in Chromium (headless, software WebGPU): PaddleOCR reads page.png
 * line 1 through exray's traced run on onnxruntime-web's wasm EP (JSEP build) and its native WebGPU
 * EP (`onnxruntime-web/webgpu`), and the wasm trace agrees with onnxruntime-node node by node.
 * Skipped when no Chromium is installed (EXRAY_CHROMIUM, default /usr/bin/chromium).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../src/cli/chromium.ts';
import { compareTraces } from '../src/compare/index.ts';
import { loadModelCard } from '../src/models/card.ts';
import { ctcGreedyDecodeBatch } from '../src/onnx/ctc.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { decodeTrace } from '../src/trace/file.ts';
import type { Trace } from '../src/trace/types.ts';
import type { PageRequest } from './ort-browser-page.ts';
import { CLS, cropRgba, firstTextLine, PAGE, REC, ROOT } from './ort-helpers.ts';

const CHROMIUM = process.env.EXRAY_CHROMIUM ?? '/usr/bin/chromium';
let server: ViteDevServer;
let browser: Browser;
let page: Page;
let labels: string[];
let input: PageRequest['input'];
let navigations = 0;

async function traceInPage(build: PageRequest['build'], ep: PageRequest['ep'], model = 'ppocr-v4-rec', x = input, runs?: { runs: number; warmup: number }): Promise<Trace> {
  const req: PageRequest = { modelUrl: `/models/${model}/model.onnx`, build, ep, capture: 'stats', input: x, ...runs };
  const r = await page.evaluate((q) => (globalThis as unknown as { exrayOrt: (q: PageRequest) => Promise<{ trace: string } | { error: string }> }).exrayOrt(q), req);
  if ('error' in r) throw new Error(r.error);
  return decodeTrace(new Uint8Array(Buffer.from(r.trace, 'base64')), `${build}-${ep}.exray`);
}

function text(t: Trace): string {
  const out = t.header.outputs[0]!;
  return ctcGreedyDecodeBatch(t.blobs.get(out.blob!.id)!, out.shape, labels)[0]!.text;
}

describe.skipIf(!existsSync(CHROMIUM))('onnxruntime-web in Chromium', () => {
  beforeAll(async () => {
    const card = await loadModelCard(join(REC, 'exray.json'));
    labels = card.outputs[0]!.labels!;
    const t = preprocess(await cropRgba(PAGE, await firstTextLine(PAGE)), 1, card.inputs[0]!.preprocess!);
    input = { name: 'x', shape: t.shape, data: Array.from(t.data) };
    // Its own config and dependency cache: the viewer's dev server and e2e runs are not touched.
    server = await createServer({
      configFile: false,
      root: ROOT,
      logLevel: 'error',
      cacheDir: mkdtempSync(join(tmpdir(), 'exray-vite-ort-')),
      optimizeDeps: { entries: ['test/ort-browser-page.html'] },
      server: { host: '127.0.0.1', port: 0, headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
    });
    await server.listen();
    browser = await chromium.launch(chromiumLaunchOptions());
    page = await browser.newPage();
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
    await page.goto(`${server.resolvedUrls!.local[0]}test/ort-browser-page.html`);
    await page.waitForFunction(() => (globalThis as unknown as { exrayReady?: boolean }).exrayReady === true, undefined, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('wasm EP: reads "Region-based segmentation" with kernel times, and agrees with onnxruntime-node', async () => {
    const wasm = await traceInPage('jsep', 'wasm', 'ppocr-v4-rec', input, { runs: 1, warmup: 0 });
    const h = wasm.header;
    expect(text(wasm)).toBe('Region-based segmentation');
    expect(h.environment.kind).toBe('browser');
    expect(h.environment.crossOriginIsolated).toBe(true);
    expect(h.environment.threads).toBe(h.environment.flags['wasm.numThreads']);
    expect(h.kernels.length).toBeGreaterThan(100);
    expect(h.kernels.every((k) => k.clock === 'ort-profiler' && k.node !== null)).toBe(true);
    expect(h.nodes.every((n) => n.outputs.every((o) => o.stats))).toBe(true);
    const ref = await traceInNode({ model: REC, backend: 'cpu', feed: [{ name: 'x', shape: input.shape, dtype: 'float32', data: Float32Array.from(input.data) }], feedFile: 'line 1', capture: 'tensors', runs: 1, warmup: 0 });
    const c = compareTraces(wasm, ref);
    expect(c.inputs.verdict).toBe('identical');
    expect(c.verdict, c.summary).toBe('ok');
    expect(c.counts.ok).toBe(ref.header.nodes.length);
  });

  const hasGpu = (): Promise<boolean> =>
    page.evaluate(async () => !!(await (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()));

  // The page's own build (JSEP) on WebGPU, on the orientation classifier: the recogniser's ~440
  // shaders take a minute to compile on SwiftShader, the classifier's far fewer; one timed run.
  it('JSEP WebGPU EP (the viewer\'s build): the classifier says 0° for the line, GPU kernel times, agrees with onnxruntime-node', { timeout: 300_000 }, async (ctx) => {
    if (!(await hasGpu())) ctx.skip('this Chromium offers no WebGPU adapter');
    const card = await loadModelCard(join(CLS, 'exray.json'));
    const t = preprocess(await cropRgba(PAGE, await firstTextLine(PAGE)), 1, card.inputs[0]!.preprocess!);
    const x = { name: 'x', shape: t.shape, data: Array.from(t.data) };
    const gpu = await traceInPage('jsep', 'webgpu', 'ppocr-mobile-v2-cls', x, { runs: 1, warmup: 0 });
    const h = gpu.header;
    expect(h.runtime).toMatchObject({ name: 'onnxruntime-web', backend: 'webgpu' });
    const p = gpu.blobs.get(h.outputs[0]!.blob!.id)!;
    expect(p[0]!).toBeGreaterThan(p[1]!);
    expect(h.kernels.length).toBeGreaterThan(50);
    expect(h.kernels.every((k) => k.clock === 'gpu-timestamp')).toBe(true);
    expect(h.nodes.every((n) => n.outputs.every((o) => o.stats))).toBe(true);
    const ref = await traceInNode({ model: CLS, backend: 'cpu', feed: [{ name: 'x', shape: x.shape, dtype: 'float32', data: Float32Array.from(x.data) }], feedFile: 'line 1', capture: 'tensors', runs: 1, warmup: 0 });
    expect(h.nodes.length).toBe(ref.header.nodes.length);
    const c = compareTraces(gpu, ref);
    expect(c.verdict, c.summary).toBe('ok');
  });

  // The native WebGPU build (`onnxruntime-web/webgpu`) on the smaller orientation classifier.
  it('native WebGPU EP: the classifier says 0° for the line, with GPU timestamps per kernel', async (ctx) => {
    if (!(await hasGpu())) ctx.skip('this Chromium offers no WebGPU adapter');
    const card = await loadModelCard(join(CLS, 'exray.json'));
    const t = preprocess(await cropRgba(PAGE, await firstTextLine(PAGE)), 1, card.inputs[0]!.preprocess!);
    const gpu = await traceInPage('native', 'webgpu', 'ppocr-mobile-v2-cls', { name: 'x', shape: t.shape, data: Array.from(t.data) }, { runs: 1, warmup: 0 });
    const h = gpu.header;
    const p = gpu.blobs.get(h.outputs[0]!.blob!.id)!;
    expect(p[0]!).toBeGreaterThan(p[1]!);
    expect(h.runtime).toMatchObject({ name: 'onnxruntime-web', backend: 'webgpu' });
    expect(h.kernels.length).toBeGreaterThan(100);
    expect(h.kernels.every((k) => k.clock === 'gpu-timestamp')).toBe(true);
    expect(h.kernels.filter((k) => k.node !== null).length / h.kernels.length).toBeGreaterThan(0.9);
    expect(h.nodes.every((n) => n.outputs.every((o) => o.stats))).toBe(true);
    expect(navigations).toBe(1);
  });
});
