/**
 * Browser benchmarks (headless Chromium through the runner page): the viewer with a 1,000-node trace
 * (app shell, open, scroll), and tracing overhead on wasm and webgl side by side in the page.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRunnerPage } from '../src/cli/browser.ts';
import { makeChainPair } from '../src/compare/synthetic.ts';
import { encodeTrace } from '../src/trace/file.ts';
import { modelHash } from '../src/models/hash.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { BenchRequest } from '../src/browser-runner/protocol.ts';
import type { BenchResult } from './types.ts';

export async function benchViewer(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'exray-bench-'));
  const { edge, ref } = makeChainPair({ nodes: 1000, elements: 4096, noise: 1e-7, injectAt: 600 });
  const files = [join(dir, 'edge.exray'), join(dir, 'ref.exray')];
  writeFileSync(files[0]!, encodeTrace(edge));
  writeFileSync(files[1]!, encodeTrace(ref));
  const session = await openRunnerPage(join('models', 'nsfw-mobilenet-v2'));
  try {
    const { page, base } = session;
    await page.goto(base);
    await page.getByTestId('open-exray-input').waitFor({ state: 'attached' });
    // Time from navigation start until the app shell is rendered (headless Chromium reports no paint timing).
    const ready = await page.evaluate(() => performance.now());
    const t0 = Date.now();
    await page.getByTestId('open-exray-input').setInputFiles(files);
    await page.waitForFunction(() => /^1000 of 1000$/.test(document.querySelector('[data-testid=node-count]')?.textContent?.trim() ?? ''), undefined, { timeout: 60_000 });
    const openMs = Date.now() - t0;
    const scroll = await page.evaluate(async () => {
      const el = document.querySelector('[data-testid=node-rows]') as HTMLElement;
      const gaps: number[] = [];
      let last = performance.now();
      const start = last;
      while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
        el.scrollTop += 240;
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        const now = performance.now();
        gaps.push(now - last);
        last = now;
      }
      gaps.sort((a, b) => a - b);
      return { frames: gaps.length, total: last - start, p95: gaps[Math.floor(gaps.length * 0.95)] ?? NaN, rows: document.querySelectorAll('[data-testid=node-row]').length };
    });
    return [
      { name: 'viewer app shell rendered (from navigation start)', value: ready, unit: 'ms' },
      { name: 'viewer open two 1000-node traces until the table shows all rows', value: openMs, unit: 'ms' },
      { name: 'viewer scroll 1000-node table to the end: frames', value: scroll.frames, unit: 'frames' },
      { name: 'viewer scroll 1000-node table: p95 frame time', value: scroll.p95, unit: 'ms' },
      { name: 'viewer scroll 1000-node table: rows in the DOM (virtualized)', value: scroll.rows, unit: 'rows' },
    ];
  } finally {
    await session.close();
  }
}

export async function benchBrowserTracing(model: string, backends: ('wasm' | 'webgl')[], rounds: number, image: string): Promise<BenchResult[]> {
  const dir = join('models', model);
  const card = await loadModelCard(join(dir, 'exray.json'));
  const spec = card.inputs[0]!.preprocess!;
  const { image: img, source } = await decodeImageFile(image);
  const t = preprocess(img, source.exifOrientation, spec);
  const data = t.data;
  const results: BenchResult[] = [];
  for (const backend of backends) {
    // A fresh page per backend: TF.js flags take effect only before a backend starts.
    const session = await openRunnerPage(dir);
    try {
      const req: BenchRequest = {
        model: { name: model, sha256: await modelHash(dir), async: card.execution === 'async', modelFile: card.modelFile },
        input: { name: card.inputs[0]!.name, shape: t.shape, dtype: t.dtype, base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') },
        backend,
        options: { webglF16: false, webglPack: true, wasmThreads: false, wasmSimd: true },
        rounds,
      };
      const r = (await session.page.evaluate((q) => (globalThis as unknown as { exrayBench(x: unknown): Promise<unknown> }).exrayBench(q), req)) as BenchResult[];
      results.push(...r);
    } finally {
      await session.close();
    }
  }
  return results;
}
