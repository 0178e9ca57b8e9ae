/**
 * An ONNX model in the page: the PaddleOCR recogniser sample and a photo of one text line, run on
 * onnxruntime-web wasm in a worker (the reference for ONNX is onnxruntime-web wasm too). Node rows
 * stream in, the summary shows the decoded text, and the run agrees with the reference.
 */
import { expect, test } from '@playwright/test';
import { chooseSample, keepScreenshot, openApp, runAndWait, selectBackends, setOptions, summaryRow } from './helpers.ts';

interface Sample {
  status: string;
  rows: number;
}

test('ppocr-v4-rec on onnxruntime-web wasm: streamed node rows, the line is read, ok vs the wasm reference', async ({ page }, info) => {
  await openApp(page);
  await chooseSample(page, 'ppocr-v4-rec', 'page_line1.png');
  await expect(page.getByTestId('onnx-reference-note')).toContainText('reference is onnxruntime-web wasm');
  // Backends onnxruntime-web cannot run ONNX on are disabled, with the reason.
  await expect(page.getByTestId('backend-cpu')).toBeDisabled();
  await expect(page.getByTestId('backend-detail-cpu')).toContainText('no cpu execution provider');
  await expect(page.getByTestId('backend-webgl')).toBeDisabled();
  await expect(page.getByTestId('backend-detail-webgl')).toContainText('ONNX');
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['wasm']);
  await expect(page.getByTestId('run-button')).toContainText('wasm reference (onnxruntime-web)');

  // Sample the wasm (edge) run's node rows during the run.
  await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __sampler: number };
    w.__samples = [];
    w.__sampler = window.setInterval(() => {
      const row = document.querySelector('[data-testid=progress-row][data-stream="wasm"]');
      const count = document.querySelector('[data-testid=node-count]')?.textContent ?? '';
      w.__samples.push({ status: row?.getAttribute('data-status') ?? '', rows: Number(/of (\d+)/.exec(count)?.[1] ?? 0) });
    }, 10);
  });
  const ms = await runAndWait(page, 170_000);
  const samples = await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __sampler: number };
    clearInterval(w.__sampler);
    return w.__samples;
  });
  info.annotations.push({ type: 'timing', description: `wasm reference + wasm run: ${ms} ms` });

  await expect(page.getByTestId('node-count')).toHaveText('440 of 440');
  const rowsWhileRunning = samples.filter((s) => s.status === 'running').map((s) => s.rows);
  expect(rowsWhileRunning.some((n) => n > 0 && n < 440), `node rows seen mid-run: ${[...new Set(rowsWhileRunning)].join(', ')}`).toBe(true);

  const ref = summaryRow(page, 'wasm (reference)');
  const edge = summaryRow(page, 'wasm');
  await expect(ref.getByTestId('verdict')).toHaveText('reference');
  await expect(ref.getByTestId('decoded-text')).toContainText('Region-based segmentation');
  await expect(edge.getByTestId('decoded-text')).toContainText('“Region-based segmentation”');
  await expect(edge.getByTestId('verdict')).toHaveText('ok');
  await expect(edge).toContainText('onnxruntime-web');
  await keepScreenshot(page, info, 'viewer-onnx-wasm');

  // A picked .onnx with its exray.json loads the same way (the orientation classifier here).
  await page.getByTestId('model-file-input').setInputFiles(['models/ppocr-mobile-v2-cls/model.onnx', 'models/ppocr-mobile-v2-cls/exray.json']);
  await expect(page.getByTestId('model-name')).toHaveText('ppocr-mobile-v2-cls');
  await expect(page.getByTestId('model-info')).toContainText('onnx');
  await expect(page.getByTestId('backend-cpu')).toBeDisabled();
  await expect(page.getByTestId('run-button')).toBeEnabled();
});
