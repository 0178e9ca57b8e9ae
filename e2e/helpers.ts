/** Shared steps of the e2e tests: everything goes through the page's UI (data-testid selectors). */
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

export const MODEL_DIR = 'models';

export async function openApp(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('./');
  await expect(page.getByTestId('sample-model-select')).toBeEnabled();
  // Backend probing done: at least cpu is offered.
  await expect(page.getByTestId('backend-cpu')).toBeVisible();
  expect(errors).toEqual([]);
}

export async function chooseSample(page: Page, model: string, photo: string): Promise<void> {
  await page.getByTestId('sample-model-select').selectOption(model);
  await expect(page.getByTestId('model-name')).toHaveText(model);
  await page.getByTestId('sample-photo-select').selectOption(photo);
  await expect(page.getByTestId('input-preview')).toBeVisible();
}

/** Open the options and set the number of timed runs (fewer = faster tests; correctness is the same). */
export async function setOptions(page: Page, o: { runs?: number; f16?: boolean }): Promise<void> {
  const details = page.locator('details.options');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
  if (o.runs !== undefined) await page.getByTestId('opt-runs').fill(String(o.runs));
  if (o.f16 !== undefined) await page.getByTestId('opt-webgl-f16').setChecked(o.f16);
}

export async function selectBackends(page: Page, backends: string[]): Promise<void> {
  for (const b of ['cpu', 'wasm', 'webgl', 'webgpu']) {
    const box = page.getByTestId(`backend-${b}`);
    if (await box.isDisabled()) continue;
    await box.setChecked(backends.includes(b));
  }
}

/** Click Run and wait until every run is done (or failed). Returns the elapsed milliseconds. */
export async function runAndWait(page: Page, timeout = 150_000): Promise<number> {
  const t0 = Date.now();
  const rows = page.getByTestId('progress-row');
  const before = await rows.count();
  await page.getByTestId('run-button').click();
  // The run has started: the cancel button shows, or (a quick run may already be over) new progress rows exist.
  await expect
    .poll(async () => (await page.getByTestId('cancel-button').isVisible()) || (await rows.count()) > before, { timeout: 30_000 })
    .toBe(true);
  await expect(page.getByTestId('run-button')).toBeVisible({ timeout });
  const n = await rows.count();
  for (let i = 0; i < n; i++) await expect(rows.nth(i)).toHaveAttribute('data-status', /done|failed/);
  return Date.now() - t0;
}

export function summaryRow(page: Page, stream: string): Locator {
  return page.locator(`[data-testid=summary-row][data-stream="${stream}"]`);
}

/** Worst per-node nrmse of a run, as the summary reports it. */
export async function worstNrmse(page: Page, stream: string): Promise<number> {
  const v = await summaryRow(page, stream).getByTestId('max-nrmse').getAttribute('data-value');
  return Number(v);
}

export async function expectRunOk(page: Page, stream: string): Promise<void> {
  const row = summaryRow(page, stream);
  await expect(row.getByTestId('verdict')).toHaveText('ok');
  await expect(row.getByTestId('topk')).toHaveAttribute('data-top1', 'agrees');
}

export async function webgpuAdapter(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    return gpu ? (await gpu.requestAdapter()) !== null : false;
  });
}

/** A full-page screenshot kept as an artifact in test-results/<test>/<name>.png. */
export async function keepScreenshot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
}
