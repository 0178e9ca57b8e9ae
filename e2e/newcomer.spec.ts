/**
 * The page as a newcomer meets it (issue 12): a link starts a run with no click, the progress line
 * says what runs, each run's timer counts from its own start, and the empty states say what they mean. Small inputs: the emotion
 * sample (64×64 grayscale), cpu + wasm, one timed run. Screenshots of the desktop and phone layouts
 * are attached to the report (and kept in test-results/).
 */
import { devices, expect, test, type Page, type TestInfo } from '@playwright/test';

const LINK = './?model=emotion&photo=astronaut.png&backends=cpu,wasm&timed=1&run=1';

interface Sample {
  t: number;
  /** data-status of each progress row, by stream. */
  status: Record<string, string>;
  /** The node table's run and how many rows it has (node-count "k of n"). */
  tableRun: string;
  rows: number;
  /** Verdicts of the rendered node rows. */
  verdicts: string[];
  now: string;
}

/** Installed before the page's own scripts: the run starts at load, so the sampler must already be there. */
function installSampler(): void {
  const w = window as unknown as { __samples: Sample[] };
  w.__samples = [];
  window.setInterval(() => {
    const status: Record<string, string> = {};
    for (const row of document.querySelectorAll('[data-testid=progress-row]')) status[row.getAttribute('data-stream') ?? ''] = row.getAttribute('data-status') ?? '';
    const count = document.querySelector('[data-testid=node-count]')?.textContent ?? '';
    w.__samples.push({
      t: performance.now(),
      status,
      tableRun: (document.querySelector('[data-testid=table-run-select]') as HTMLSelectElement | null)?.value ?? '',
      rows: Number(/of (\d+)/.exec(count)?.[1] ?? 0),
      verdicts: [...document.querySelectorAll('[data-testid=node-row]')].map((r) => r.getAttribute('data-verdict') ?? ''),
      now: document.querySelector('[data-testid=progress-now]')?.textContent ?? '',
    });
  }, 20);
}

async function samples(page: Page): Promise<Sample[]> {
  return page.evaluate(() => (window as unknown as { __samples: Sample[] }).__samples);
}

async function allDone(page: Page): Promise<void> {
  const rows = page.getByTestId('progress-row');
  await expect(rows).toHaveCount(2);
  for (let i = 0; i < 2; i++) await expect(rows.nth(i)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('run-button')).toBeVisible();
}

/** Seconds a finished progress row shows (`done · 42 nodes · 1.23 s` or `… 850 ms`). */
async function shownElapsed(page: Page, stream: string): Promise<number> {
  const text = (await page.locator(`[data-testid=progress-row][data-stream="${stream}"] [data-testid=progress-phase]`).textContent()) ?? '';
  const m = /([\d.]+)\s*(ms|s)\s*$/.exec(text);
  expect(m, `elapsed in "${text}"`).not.toBeNull();
  return Number(m![1]) * (m![2] === 's' ? 1000 : 1);
}

/** Elements that reach past the viewport's right edge (empty when the page does not scroll sideways). */
async function sideways(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
    const out: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > 0) out.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.right)}px: ${(el.textContent ?? '').slice(0, 40)}`);
    }
    return out.slice(-8);
  });
}

/** Kept in test-results/<test>/ and attached to the report. Phones: the viewport (full-page captures of an emulated phone repeat tiles). */
async function attachScreenshot(page: Page, info: TestInfo, name: string, fullPage = true): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage, scale: 'css' });
  await info.attach(name, { path, contentType: 'image/png' });
}

test.describe('desktop', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  test('a link runs emotion on wasm + cpu: the progress line, own timers, clear empty states', async ({ page }, info) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(installSampler);
    const t0 = Date.now();
    await page.goto(LINK);
    // Preselected from the URL, started with no click.
    await expect(page.getByTestId('model-name')).toHaveText('emotion');
    await expect(page.getByTestId('sample-photo-select')).toHaveValue('astronaut.png');
    await allDone(page);
    info.annotations.push({ type: 'timing', description: `link → both runs done: ${Date.now() - t0} ms` });
    console.log(`desktop: link → done ${Date.now() - t0} ms`);
    const all = await samples(page);

    // The progress line says what is running.
    expect(all.some((s) => /^Running wasm/.test(s.now)), 'progress line: Running wasm').toBe(true);
    expect(all.some((s) => /^Running cpu \(reference\)/.test(s.now)), 'progress line: Running cpu (reference)').toBe(true);
    await expect(page.getByTestId('progress-now')).toHaveCount(0);
    await expect(page.locator('[data-testid=summary-row][data-stream="wasm"] [data-testid=verdict]')).toHaveText('ok');
    await expect(page.getByTestId('node-row').first()).toHaveAttribute('data-verdict', 'ok');

    // 3. Each run's time counts from its own start: wasm's window starts after the reference's ends,
    // and each row shows its own window (timers that add up would show wasm as the sum).
    const windowOf = async (stream: string): Promise<{ from: number; to: number }> => {
      const row = page.locator(`[data-testid=progress-row][data-stream="${stream}"]`);
      return { from: Number(await row.getAttribute('data-started')), to: Number(await row.getAttribute('data-ended')) };
    };
    const win = { wasm: await windowOf('wasm'), ref: await windowOf('cpu (reference)') };
    const shown = { wasm: await shownElapsed(page, 'wasm'), ref: await shownElapsed(page, 'cpu (reference)') };
    const what = `shown wasm ${shown.wasm} ms, ref ${shown.ref} ms; windows ${JSON.stringify(win)}`;
    expect(win.ref.from, what).toBeGreaterThan(0);
    expect(win.wasm.from, what).toBeGreaterThanOrEqual(win.ref.to - 1);
    for (const k of ['wasm', 'ref'] as const) {
      const ms = win[k].to - win[k].from;
      // fmtMs rounds: 3 significant digits.
      expect(Math.abs(shown[k] - ms), what).toBeLessThan(0.01 * ms + 2);
    }

    // 8. Empty states.
    const table = page.getByTestId('node-table');
    await page.getByTestId('node-filter-diverged').check();
    await expect(table.getByTestId('node-table-empty')).toContainText('No node diverged');
    await page.getByTestId('node-filter-diverged').uncheck();
    await expect(table.getByTestId('node-table-empty')).toHaveCount(0);
    await page.locator('[data-testid=summary-row][data-stream="cpu (reference)"] [data-testid=first-divergent]').click();
    await expect(page.getByTestId('table-run-select')).toHaveValue('wasm');
    // The chart legend says something before any hover (each run's worst error), not "–".
    const legend = page.getByTestId('error-chart').locator('.u-legend');
    await expect(legend).toContainText('worst');
    await expect(legend).not.toContainText(/–|--/);
    // The slowest nodes: the box is as tall as its bars (nothing hidden behind an inner scroll).
    const bars = page.getByTestId('latency-bars');
    const groups = bars.locator('.bar-group');
    const n = await groups.count();
    expect(n).toBeGreaterThan(0);
    expect(await bars.evaluate((el) => el.scrollHeight <= el.clientHeight + 1), 'latency bars: no inner scroll').toBe(true);
    if ((await page.getByTestId('latency-more').count()) > 0) {
      await page.getByTestId('latency-more').click();
      expect(await groups.count()).toBeGreaterThan(n);
      expect(await bars.evaluate((el) => el.scrollHeight <= el.clientHeight + 1), 'latency bars (all): no inner scroll').toBe(true);
    }
    await expect(page.getByTestId('latency-count')).toContainText(`slowest ${await groups.count()} of`);
    expect(await sideways(page)).toEqual([]);
    await attachScreenshot(page, info, 'newcomer-desktop-1400x900');

    // A photo the browser cannot decode: the error, and no broken-image icon under it.
    await page.getByTestId('photo-file-input').setInputFiles({ name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a jpeg at all') });
    await expect(page.getByTestId('input-error')).toContainText('broken.jpg');
    await expect(page.getByTestId('photo')).toHaveCount(0);
    expect(errors).toEqual([]);
  });
});

test.describe('phone', () => {
  const { defaultBrowserType: _ignored, ...pixel } = devices['Pixel 7'];
  test.use(pixel);

  test('Pixel 7: the link runs, nothing overflows at 412 or 360 px', async ({ page }, info) => {
    const t0 = Date.now();
    await page.goto(LINK);
    await expect(page.getByTestId('model-name')).toHaveText('emotion');
    await allDone(page);
    info.annotations.push({ type: 'timing', description: `link → both runs done: ${Date.now() - t0} ms` });
    console.log(`phone: link → done ${Date.now() - t0} ms`);
    await expect(page.locator('[data-testid=summary-row][data-stream="wasm"] [data-testid=verdict]')).toHaveText('ok');
    expect(await sideways(page)).toEqual([]);
    await page.getByTestId('summary').scrollIntoViewIfNeeded();
    await attachScreenshot(page, info, 'newcomer-pixel7-summary', false);
    await page.getByTestId('node-table').scrollIntoViewIfNeeded();
    await attachScreenshot(page, info, 'newcomer-pixel7-nodes', false);
    await page.setViewportSize({ width: 360, height: 780 });
    expect(await sideways(page)).toEqual([]);
    await page.getByTestId('summary').scrollIntoViewIfNeeded();
    await attachScreenshot(page, info, 'newcomer-360-summary', false);
    console.log(`phone: total ${Date.now() - t0} ms`);
  });
});
