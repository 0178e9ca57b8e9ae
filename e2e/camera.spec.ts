/**
 * One camera frame as the input. Chromium's fake capture device stands in for a camera (the page's
 * code path is the real one: getUserMedia with facingMode 'environment', a frame drawn to a canvas,
 * encoded, decoded and pre-processed like any photo).
 */
import { expect, test } from '@playwright/test';
import config from '../playwright.config.ts';
import { expectRunOk, openApp, runAndWait, selectBackends, setOptions } from './helpers.ts';

const args = config.use?.launchOptions?.args ?? [];
test.use({
  launchOptions: { ...config.use?.launchOptions, args: [...args, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] },
  permissions: ['camera'],
});

test('a captured camera frame becomes the input and runs', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('sample-model-select').selectOption('emotion');
  await expect(page.getByTestId('model-name')).toHaveText('emotion');
  await page.getByTestId('camera-start').click();
  const video = page.getByTestId('camera-video');
  await expect(video).toBeVisible();
  await expect.poll(() => video.evaluate((v) => (v as HTMLVideoElement).videoWidth)).toBeGreaterThan(0);
  await page.getByTestId('camera-capture').click();
  await expect(page.getByTestId('input-preview')).toBeVisible();
  await expect(page.getByTestId('photo')).toHaveAttribute('alt', /^camera-.*\.png$/);
  await expect(page.getByTestId('input-panel')).toContainText('[1, 64, 64, 1]');
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['cpu', 'wasm']);
  await runAndWait(page);
  await expectRunOk(page, 'wasm');
});
