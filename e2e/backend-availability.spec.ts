/**
 * Backends a browser cannot run are shown, disabled, with the reason: WebGPU (here: Chromium without
 * --enable-unsafe-webgpu) and WebNN (TF.js has none; Chromium on Linux has no WebNN context).
 */
import { expect, test } from '@playwright/test';
import config from '../playwright.config.ts';

const args = (config.use?.launchOptions?.args ?? []).filter((a) => a !== '--enable-unsafe-webgpu');
test.use({ launchOptions: { ...config.use?.launchOptions, args: [...args, '--disable-features=WebGPU'] } });

test('webgpu unavailable: disabled, with the reason', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('backend-cpu')).toBeEnabled();
  await expect(page.getByTestId('backend-webgpu')).toBeDisabled();
  await expect(page.getByTestId('backend-detail-webgpu')).toHaveText(/no WebGPU adapter|no navigator\.gpu/);
  await expect(page.getByTestId('backend-wasm')).toBeEnabled();
});

test('webnn: never offered for TF.js models; for ONNX models offered where the browser has a WebNN context, else disabled with the reason', async ({ page }) => {
  await page.goto('./');
  await page.getByTestId('sample-model-select').selectOption('nsfw-mobilenet-v2');
  await expect(page.getByTestId('model-name')).toHaveText('nsfw-mobilenet-v2');
  await expect(page.getByTestId('backend-webnn')).toBeDisabled();
  await expect(page.getByTestId('backend-detail-webnn')).toContainText('TF.js has no WebNN backend');

  await page.getByTestId('sample-model-select').selectOption('ppocr-mobile-v2-cls');
  await expect(page.getByTestId('model-name')).toHaveText('ppocr-mobile-v2-cls');
  const hasContext = await page.evaluate(async () => {
    const ml = (navigator as unknown as { ml?: { createContext(): Promise<unknown> } }).ml;
    return ml ? ml.createContext().then(() => true, () => false) : false;
  });
  if (hasContext) {
    await expect(page.getByTestId('backend-webnn')).toBeEnabled();
  } else {
    // Chromium on Linux: no navigator.ml (or, behind a flag, "WebNN is not supported on this platform").
    await expect(page.getByTestId('backend-webnn')).toBeDisabled();
    await expect(page.getByTestId('backend-detail-webnn')).toContainText(/no navigator\.ml|WebNN createContext failed/);
  }
  // The other ONNX providers are unaffected.
  await expect(page.getByTestId('backend-wasm')).toBeEnabled();
});
