/**
 * Issue 12 items 9–11 on the page (item 7's and 9's wording are unit-tested in
 * src/viewer/util/finding.test.ts): a card that says class scores keeps top-k, the wasm threads say
 * why, and at 1400×900 the summary, the error chart and the top of the node table share the first
 * screen under a sticky section index that reaches every panel. Emotion (64×64 grayscale) on wasm +
 * cpu, one timed run. A screenshot of the first screen is kept in test-results/.
 */
import { expect, test, type Page } from '@playwright/test';

const LINK = './?model=emotion&photo=astronaut.png&backends=cpu,wasm&timed=1&run=1';

async function allDone(page: Page): Promise<void> {
  const rows = page.getByTestId('progress-row');
  await expect(rows).toHaveCount(2);
  for (let i = 0; i < 2; i++) await expect(rows.nth(i)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('run-button')).toBeVisible();
}

/** Top and bottom of an element in the viewport's coordinates. */
async function box(page: Page, testId: string): Promise<{ top: number; bottom: number }> {
  return page.getByTestId(testId).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom };
  });
}

test.use({ viewport: { width: 1400, height: 900 } });

test('results: class scores keep top-k, wasm threads say why, summary + chart + table on the first screen, an index to every panel', async ({ page }, info) => {
  await page.goto(LINK);
  await allDone(page);
  await expect(page.locator('[data-testid=summary-row][data-stream=wasm]').getByTestId('verdict')).not.toHaveText('comparing', { timeout: 30_000 });

  // 9: emotion's card says class scores: top-k stays, no "compared as a tensor".
  const wasm = page.locator('[data-testid=summary-row][data-stream=wasm]');
  await expect(wasm.getByTestId('topk')).toBeVisible();
  await expect(wasm.getByTestId('output-as-tensor')).toHaveCount(0);

  // 10: the thread count comes with its reason.
  const threads = page.locator('[data-testid=environment][data-stream=wasm] [data-testid=env-threads]');
  await expect(threads).toHaveText(/^\d+ \((TF\.js wasm uses half the logical cores, 1 to 4: \d+ cores → \d+|single-threaded wasm build: .+)\)$/);
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const text = (await threads.textContent()) ?? '';
  if (text.includes('half the logical cores')) expect(text).toContain(`${cores} cores → ${Math.min(4, Math.max(1, Math.floor(cores / 2)))}`);

  // 11: at the top of the page, the summary, the chart and the node table's head are all on screen.
  await page.evaluate(() => window.scrollTo(0, 0));
  const vh = page.viewportSize()!.height;
  const summary = await box(page, 'summary');
  const chart = await box(page, 'error-chart');
  const table = await box(page, 'node-table');
  expect(summary.top, 'summary on the first screen').toBeGreaterThanOrEqual(0);
  expect(chart.bottom, 'error chart whole on the first screen').toBeLessThanOrEqual(vh);
  expect(table.top + 120, 'node table head (and its first rows) on the first screen').toBeLessThanOrEqual(vh);
  const shot = info.outputPath('results-1400x900.png');
  await page.screenshot({ path: shot, scale: 'css' });
  await info.attach('results-1400x900', { path: shot, contentType: 'image/png' });

  // The index lists every panel on the page and stays in view; each link brings its panel to the top.
  const links = page.getByTestId('results-index-link');
  const targets = await links.evaluateAll((els) => els.map((e) => e.getAttribute('data-target') ?? ''));
  expect(targets).toEqual(expect.arrayContaining(['summary', 'error-chart', 'node-table', 'diagnosis-panel', 'environment-panel']));
  for (const id of ['environment-panel', 'diagnosis-panel', 'summary']) {
    await page.locator(`[data-testid=results-index-link][data-target="${id}"]`).click();
    await expect.poll(async () => (await box(page, id)).top, { message: `${id} brought to the top` }).toBeLessThan(vh / 2);
    const index = await box(page, 'results-index');
    expect(index.top, 'index still on screen').toBeGreaterThanOrEqual(0);
    expect(index.bottom).toBeLessThan(vh);
  }
});
