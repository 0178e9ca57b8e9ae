/**
 * The main-thread fallback (used for a backend that does not work in workers): the same run code with
 * an in-page transport instead of postMessage. `?thread=main` forces it for every backend.
 */
import { expect, test } from '@playwright/test';
import { chooseSample, expectRunOk, runAndWait, selectBackends, setOptions, summaryRow } from './helpers.ts';

test('?thread=main: cpu + wasm on the page itself, through the in-page transport, give the same verdicts', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('./?thread=main');
  await expect(page.getByTestId('backend-cpu')).toBeVisible();
  await chooseSample(page, 'emotion', 'astronaut.png');
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['cpu', 'wasm']);
  await runAndWait(page);
  await expect(summaryRow(page, 'wasm')).toContainText('main thread');
  await expectRunOk(page, 'wasm');
  await expect(page.locator('[data-testid=environment][data-stream="wasm"]')).toContainText('WASM_HAS_MULTITHREAD_SUPPORT=false');
  expect(errors).toEqual([]);
});
