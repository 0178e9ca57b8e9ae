/**
 * Phone-sized screens (Playwright's device emulation: viewport, DPR, touch, UA — Chromium underneath):
 * the page renders in one column without sideways scrolling, and a run works by touch.
 */
import { devices, expect, test } from '@playwright/test';
import { expectRunOk, keepScreenshot, openApp, selectBackends, setOptions } from './helpers.ts';

for (const name of ['Pixel 7', 'iPhone 14'] as const) {
  test.describe(name, () => {
    const { defaultBrowserType: _ignored, ...device } = devices[name];
    test.use(device); // the config's browserName (chromium) stays: only the screen, touch and UA change

    test(`${name}: renders narrow, runs by touch`, async ({ page }, info) => {
      await openApp(page);
      const width = await page.evaluate(() => window.innerWidth);
      expect(width).toBeLessThan(500);
      const noSideways = (): Promise<boolean> => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
      expect(await noSideways()).toBe(true);
      // One column: the set-up panels are stacked above the results.
      const model = await page.getByTestId('model-panel').boundingBox();
      const intro = await page.getByTestId('intro').boundingBox();
      expect(intro!.y).toBeGreaterThan(model!.y + model!.height);

      await page.getByTestId('sample-model-select').selectOption('emotion');
      await expect(page.getByTestId('model-name')).toHaveText('emotion');
      await page.getByTestId('sample-photo-select').selectOption('astronaut.png');
      await expect(page.getByTestId('input-preview')).toBeVisible();
      await setOptions(page, { runs: 1 });
      await selectBackends(page, ['cpu', 'wasm']);
      await page.getByTestId('run-button').tap();
      await expect(page.getByTestId('cancel-button')).toBeVisible();
      await expect(page.getByTestId('run-button')).toBeVisible({ timeout: 120_000 });
      await expectRunOk(page, 'wasm');
      // A node row opens the inspector by touch.
      await page.getByTestId('node-row').nth(3).tap();
      await expect(page.getByTestId('heatmap-edge')).toBeVisible();
      expect(await noSideways()).toBe(true);
      await keepScreenshot(page, info, `phone-${name.replace(/\s+/g, '-').toLowerCase()}`);
    });
  });
}
