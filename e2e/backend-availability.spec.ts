/**
 * A browser without WebGPU (here: Chromium without --enable-unsafe-webgpu): the backend is shown,
 * disabled, with the reason.
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
