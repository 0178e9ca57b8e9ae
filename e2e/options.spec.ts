/**
 * Backend options and pre-processing edits: a wasm run without SIMD and threads is its own row, with
 * its flags on record; changing the pre-processing starts over (earlier runs saw another input).
 */
import { expect, test } from '@playwright/test';
import { chooseSample, expectRunOk, openApp, runAndWait, selectBackends, setOptions, summaryRow } from './helpers.ts';

test('wasm without SIMD and threads runs next to plain wasm; editing the pre-processing clears the runs', async ({ page }) => {
  await openApp(page);
  await chooseSample(page, 'emotion', 'astronaut.png');
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['wasm']);
  await runAndWait(page);
  await page.getByTestId('opt-wasm-simd').uncheck();
  await page.getByTestId('opt-wasm-threads').uncheck();
  await expect(page.getByTestId('run-button')).toHaveText(/Run wasm \+ cpu reference/);
  await runAndWait(page);
  await expect(page.getByTestId('summary-row')).toHaveCount(3);
  await expectRunOk(page, 'wasm');
  await expectRunOk(page, 'wasm no-threads no-simd');
  const env = page.locator('[data-testid=environment][data-stream="wasm no-threads no-simd"]');
  await expect(env).toContainText('WASM_HAS_SIMD_SUPPORT=false');
  await expect(env).toContainText('WASM_HAS_MULTITHREAD_SUPPORT=false');
  await expect(summaryRow(page, 'wasm no-threads no-simd').getByTestId('median-ms')).toContainText('ms');

  // A different normalisation is a different input: the runs go.
  await page.getByTestId('preprocess-form').locator('summary').click();
  await page.getByTestId('pp-std').fill('0.25');
  await page.getByTestId('pp-apply').click();
  await expect(page.getByTestId('preprocess-summary')).toContainText('÷ [0.25]');
  await expect(page.getByTestId('summary-row')).toHaveCount(0);
  await expect(page.getByTestId('intro')).toBeVisible();

  // Every resize a card can say is offered; the antialiased kernels and the canvas imply their sampling.
  const resize = page.getByTestId('pp-resize');
  expect(await resize.locator('option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(['bilinear', 'bilinear+aa', 'canvas-low', 'nearest', 'area', 'bicubic', 'bicubic+aa', 'lanczos3', 'lanczos3+aa']);
  await resize.selectOption('lanczos3+aa');
  await expect(page.getByTestId('pp-corners')).toBeDisabled();
  await page.getByTestId('pp-apply').click();
  await expect(page.getByTestId('preprocess-summary')).toContainText('lanczos3+aa');
  await resize.selectOption('nearest');
  await expect(page.getByTestId('pp-corners')).toBeEnabled();
  await expect(page.getByTestId('pp-corners')).toHaveValue('half');
});

test('a run can be cancelled; the page is usable again', async ({ page }) => {
  await openApp(page);
  await chooseSample(page, 'nsfw-inception-v3', 'rocket.jpg');
  await selectBackends(page, ['cpu', 'wasm']);
  await page.getByTestId('run-button').click();
  await expect(page.locator('[data-testid=progress-row][data-stream="cpu (reference)"]')).toHaveAttribute('data-status', /starting|running/);
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('run-button')).toBeEnabled();
  await expect(page.locator('[data-testid=progress-row][data-status=failed]')).toHaveCount(2);
  await expect(page.getByTestId('progress')).toContainText('cancelled');
});
