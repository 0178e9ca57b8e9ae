/**
 * The main path: a sample model and a sample photo chosen in the UI, run on cpu (the reference) and
 * wasm in workers while the page stays responsive, then the numbers; `tensors` and `stats` captures'
 * rows stream in node by node while they run, their statistics on a stats ring's worker.
 */
import { expect, test, type Page } from '@playwright/test';
import { chooseSample, expectRunOk, keepScreenshot, openApp, runAndWait, selectBackends, setOptions, summaryRow, webgpuAdapter, worstNrmse } from './helpers.ts';

interface Sample {
  t: number;
  status: string;
  phase: string;
  rows: number;
  lag: number;
  /** The progress line: what was running when the timer fired late. */
  now: string;
}

/**
 * runAndWait without expect's retries while the run goes on: Playwright 1.65 takes an aria snapshot of
 * the whole page on each failed retry of `toBeVisible` (about every 0.5 s, 10–170 ms of the page's main
 * thread each in a CPU profile of this test), which alone stalled the timer below for over a second on
 * a loaded machine. A predicate polled every 250 ms costs microseconds.
 */
async function runAndWaitQuietly(page: Page, timeout = 150_000): Promise<number> {
  const t0 = Date.now();
  await page.getByTestId('run-button').click();
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('[data-testid=progress-row]')];
      return document.querySelector('[data-testid=run-button]') !== null && rows.length > 0 && rows.every((r) => /^(done|failed)$/.test(r.getAttribute('data-status') ?? ''));
    },
    null,
    { polling: 250, timeout },
  );
  return Date.now() - t0;
}

test('nsfw-mobilenet-v2 on cpu + wasm: wasm agrees with the cpu reference; tensors and stats captures stream their rows', async ({ page }, info) => {
  // The built page's workers: each cpu/wasm run's trace worker starts a stats ring's worker (nested).
  const workers: string[] = [];
  page.on('worker', (w) => workers.push(w.url()));
  await openApp(page);
  await expect(page.getByTestId('environment-panel')).toHaveCount(0);
  await chooseSample(page, 'nsfw-mobilenet-v2', 'chelsea.png');
  await setOptions(page, { runs: 2 });
  await selectBackends(page, ['cpu', 'wasm']);

  // Sample the page every 25 ms during the run: the wasm row's status and phase, the node rows
  // the table has received, and how late the timer fires (main-thread responsiveness).
  await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __sampler: number; __long: number[] };
    w.__samples = [];
    // Main-thread tasks over 50 ms, for the report (the lag check below is the test).
    w.__long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask' });
    let last = performance.now();
    w.__sampler = window.setInterval(() => {
      const now = performance.now();
      const row = document.querySelector('[data-testid=progress-row][data-stream="wasm"]');
      const count = document.querySelector('[data-testid=node-count]')?.textContent ?? '';
      w.__samples.push({
        t: now,
        status: row?.getAttribute('data-status') ?? '',
        phase: row?.querySelector('[data-testid=progress-phase]')?.textContent ?? '',
        rows: Number(/of (\d+)/.exec(count)?.[1] ?? 0),
        lag: now - last - 25,
        now: document.querySelector('[data-testid=progress-now]')?.textContent ?? 'idle',
      });
      last = now;
    }, 25);
  });
  const ms = await runAndWaitQuietly(page);
  const { samples, long } = await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __sampler: number; __long: number[] };
    clearInterval(w.__sampler);
    return { samples: w.__samples, long: w.__long };
  });
  info.annotations.push({ type: 'timing', description: `cpu + wasm run: ${ms} ms` });
  info.annotations.push({ type: 'main thread', description: `timer lag max ${Math.round(Math.max(...samples.map((s) => s.lag)))} ms; long tasks: ${long.length}, longest ${Math.round(Math.max(0, ...long))} ms, total ${Math.round(long.reduce((a, b) => a + b, 0))} ms` });
  const stalls = [...samples].sort((a, b) => b.lag - a.lag).slice(0, 3);
  info.annotations.push({ type: 'main thread', description: `longest stalls: ${stalls.map((s) => `${Math.round(s.lag)} ms at "${s.now.slice(0, 60)}" (wasm ${s.status}: ${s.phase}, ${s.rows} rows)`).join('; ')}` });

  // The page stayed responsive: the main thread never stalled for a second while models ran in workers.
  expect(Math.max(...samples.map((s) => s.lag))).toBeLessThan(1000);
  // Streaming, on this `tensors` capture (the default): each node's statistics are computed by a
  // stats ring's worker (the page is cross-origin isolated) and polled as later nodes end, its copy
  // made into memory a worker made ready, so its rows reach the table while the run goes on (while
  // wasm was still running, its capture pass had delivered some but not all nodes).
  expect(streamedMidRun(samples), 'tensors capture: node rows seen mid-run').toBeGreaterThan(0);
  // One ring worker per run (cpu and wasm), bundled by the build.
  expect(workers.filter((u) => /stats-ring-worker-web[^/]*\.js$/.test(u)).length, workers.join(', ')).toBe(2);

  await expect(summaryRow(page, 'cpu (reference)').getByTestId('verdict')).toHaveText('reference');
  await expectRunOk(page, 'wasm');
  await expect(summaryRow(page, 'wasm').getByTestId('first-divergent')).toHaveText('none');
  // wasm vs cpu: float32 noise only.
  expect(await worstNrmse(page, 'wasm')).toBeLessThan(1e-5);
  await expect(page.getByTestId('node-count')).toHaveText('161 of 161');

  // Per-node rows of the table: the largest nrmse, sorted to the top, is tiny as well.
  await page.getByTestId('sort-nrmse').click();
  const top = Number(await page.getByTestId('cell-nrmse').first().getAttribute('data-value'));
  expect(top).toBeLessThan(1e-5);
  // Filtering by op.
  await page.getByTestId('node-filter').fill('DepthwiseConv2D');
  await expect(page.getByTestId('node-count')).toHaveText('17 of 161');
  await page.getByTestId('node-row').first().click();
  await expect(page.getByTestId('heatmap-edge')).toBeVisible();
  await expect(page.getByTestId('heatmap-ref')).toBeVisible();
  await expect(page.getByTestId('heatmap-diff')).toBeVisible();

  // Environment: cross-origin isolated, worker runs, the clock behind each number.
  await expect(page.getByTestId('environment')).toHaveCount(2);
  await expect(page.getByTestId('env-cross-origin-isolated').first()).toHaveText('yes');
  await expect(page.locator('[data-testid=latency-clock][data-stream="wasm"]')).toHaveAttribute('data-clock', 'wall');
  await keepScreenshot(page, info, 'viewer-cpu-wasm');

  // And on a `stats` capture (statistics on the ring's worker, no values kept).
  await page.getByTestId('opt-capture').selectOption('stats');
  await page.evaluate(() => {
    (window as unknown as { __samples: Sample[] }).__samples = [];
  });
  await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __sampler: number };
    w.__sampler = window.setInterval(() => {
      const row = document.querySelector('[data-testid=progress-row][data-stream="wasm"]');
      const count = document.querySelector('[data-testid=node-count]')?.textContent ?? '';
      w.__samples.push({ t: performance.now(), status: row?.getAttribute('data-status') ?? '', phase: row?.querySelector('[data-testid=progress-phase]')?.textContent ?? '', rows: Number(/of (\d+)/.exec(count)?.[1] ?? 0), lag: 0, now: '' });
    }, 25);
  });
  await runAndWaitQuietly(page);
  const statsSamples = await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __sampler: number };
    clearInterval(w.__sampler);
    return w.__samples;
  });
  expect(streamedMidRun(statsSamples), 'stats capture: node rows seen mid-run').toBeGreaterThan(0);
  await expectRunOk(page, 'wasm');
});

/** Samples taken while wasm's capture pass ran that saw some of its 161 node rows, not all. */
function streamedMidRun(samples: Sample[]): number {
  return samples.filter((s) => s.status === 'running' && /capture pass · node (\d+) of 161/.test(s.phase) && s.rows > 0 && s.rows < 161).length;
}

test('webgpu (when the browser has an adapter) agrees with the cpu reference', async ({ page }, info) => {
  await openApp(page);
  test.skip(!(await webgpuAdapter(page)), 'navigator.gpu.requestAdapter() returned no adapter');
  // The small emotion CNN: the cpu reference of MobileNetV2 costs ~30 s of the suite on this machine.
  await chooseSample(page, 'emotion', 'chelsea.png');
  await setOptions(page, { runs: 1 });
  await selectBackends(page, ['webgpu']);
  const ms = await runAndWait(page);
  info.annotations.push({ type: 'timing', description: `cpu + webgpu run: ${ms} ms` });
  await expectRunOk(page, 'webgpu');
  expect(await worstNrmse(page, 'webgpu')).toBeLessThan(1e-4);
  await expect(page.locator('[data-testid=latency-clock][data-stream="webgpu"]')).toHaveAttribute('data-clock', /gpu-timestamp|unavailable/);
  await keepScreenshot(page, info, 'viewer-webgpu');
});
