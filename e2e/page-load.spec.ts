/**
 * What the page fetches when (issue #16 item 5): the app shell is usable before any runtime is
 * requested; opening traces fetches the trace reader, not a runtime; TF.js's wasm binary and the
 * trace worker are fetched when a run needs them. Asserted on the network requests, not on time
 * (times are in the viewer benchmark, bench/viewer.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { makeChainPair } from '../src/compare/synthetic.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';

/** A runtime or its binaries: TF.js, onnxruntime-web, their wasm, the workers that run models. */
const RUNTIME = /\.wasm(\?|$)|trace-worker|run-onnx|run-job|load-model|tfjs|onnxruntime|ort-wasm|ort\.|backends/i;

function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(new URL(r.url()).pathname));
  return urls;
}

test('the shell and opened traces need no runtime; a run fetches it', async ({ page }, info) => {
  const urls = recordRequests(page);
  await page.goto('./');
  await expect(page.getByTestId('open-exray-input')).toBeAttached();
  await expect(page.getByTestId('backend-panel')).toBeVisible();
  // The sample model is loaded at start: once it is, the run button is enabled (the page is in use).
  await expect(page.getByTestId('run-button')).toBeEnabled({ timeout: 60_000 });
  expect(urls.length).toBeGreaterThan(0);
  expect(urls.filter((u) => RUNTIME.test(u))).toEqual([]);

  const { edge, ref } = makeChainPair({ nodes: 40, elements: 256, noise: 1e-7, injectAt: 20 });
  await page.getByTestId('open-exray-input').setInputFiles([
    { name: 'edge.exray', mimeType: 'application/zip', buffer: Buffer.from(encodeTrace(edge)) },
    { name: 'ref.exray', mimeType: 'application/zip', buffer: Buffer.from(encodeTrace(ref)) },
  ]);
  await expect(page.getByTestId('node-count')).toHaveText(/^40 of 40$/);
  expect(urls.some((u) => /trace-reader/.test(u))).toBe(true);
  expect(urls.filter((u) => RUNTIME.test(u))).toEqual([]);
  await info.attach('requests before a run', { body: urls.join('\n'), contentType: 'text/plain' });

  // A run (the sample model on cpu + wasm) fetches the trace worker and TF.js's wasm binary.
  const before = urls.length;
  await page.getByTestId('run-button').click();
  await expect.poll(() => urls.slice(before).filter((u) => /trace-worker/.test(u)).length, { timeout: 120_000 }).toBeGreaterThan(0);
  await expect.poll(() => urls.slice(before).filter((u) => /\.wasm$/.test(u)).length, { timeout: 120_000 }).toBeGreaterThan(0);
});
