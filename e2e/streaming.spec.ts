/**
 * Issue 12 item 1: rows stream from the first node of the first run. The reference runs first; the
 * node table (showing the edge run) gets a row for each reference node as it arrives — its shape and
 * time, the comparison columns empty and the verdict "waiting" — and the edge fills them in when it
 * runs. Emotion (64×64 grayscale) on cpu + wasm, one timed run, started from a link.
 *
 * Every DOM change is recorded (a MutationObserver, installed before the page's scripts), so a state
 * the page showed only briefly is still seen: the checks read what the page actually displayed.
 */
import { expect, test } from '@playwright/test';

const LINK = './?model=emotion&photo=astronaut.png&backends=cpu,wasm&timed=1&run=1';
const REF = 'cpu (reference)';

interface Shot {
  /** data-status of each progress row, by stream. */
  status: Record<string, string>;
  now: string;
  tableRun: string;
  /** node-count's data-own / data-waiting. */
  own: number;
  waiting: number;
  /** The rendered rows: verdict, where the row comes from, nrmse and time cells. */
  rows: { verdict: string; from: string; nrmse: string; ms: string }[];
}

function installRecorder(): void {
  const w = window as unknown as { __shots: Shot[] };
  w.__shots = [];
  const take = (): void => {
    const status: Record<string, string> = {};
    for (const row of document.querySelectorAll('[data-testid=progress-row]')) status[row.getAttribute('data-stream') ?? ''] = row.getAttribute('data-status') ?? '';
    const count = document.querySelector('[data-testid=node-count]');
    w.__shots.push({
      status,
      now: document.querySelector('[data-testid=progress-now]')?.textContent ?? '',
      tableRun: (document.querySelector('[data-testid=table-run-select]') as HTMLSelectElement | null)?.value ?? '',
      own: Number(count?.getAttribute('data-own') ?? -1),
      waiting: Number(count?.getAttribute('data-waiting') ?? -1),
      rows: [...document.querySelectorAll('[data-testid=node-row]')].map((r) => ({
        verdict: r.getAttribute('data-verdict') ?? '',
        from: r.getAttribute('data-from') ?? '',
        nrmse: r.querySelector('[data-testid=cell-nrmse]')?.getAttribute('data-value') ?? '',
        ms: r.querySelector('.c-ms')?.textContent ?? '',
      })),
    });
  };
  new MutationObserver(take).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

test.use({ viewport: { width: 1400, height: 900 } });

test('rows appear while the reference runs; the edge fills in their comparison columns', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(installRecorder);
  await page.goto(LINK);
  const progress = page.getByTestId('progress-row');
  await expect(progress).toHaveCount(2);
  for (let i = 0; i < 2; i++) await expect(progress.nth(i)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('run-button')).toBeVisible();
  const shots = await page.evaluate(() => (window as unknown as { __shots: Shot[] }).__shots);

  // While the reference was still running (wasm queued), the table showed wasm's rows: the reference's
  // nodes, waiting for wasm, with the reference's time and no comparison yet.
  const early = shots.filter((s) => s.status[REF] === 'running' && s.status.wasm === 'queued' && s.rows.length > 0);
  const seen = `${early.length} of ${shots.length} recorded states`;
  expect(early.length, `rows shown while the reference ran (${seen})`).toBeGreaterThan(0);
  const first = early[0]!;
  expect(first.tableRun).toBe('wasm');
  expect(first.own).toBe(0);
  expect(first.waiting).toBeGreaterThan(0);
  expect(first.rows.every((r) => r.verdict === 'waiting' && r.from === REF && r.nrmse === ''), JSON.stringify(first.rows.slice(0, 3))).toBe(true);
  expect(first.rows.some((r) => /\d+(\.\d+)? (ms|s)$/.test(r.ms)), `the reference's time on waiting rows: ${JSON.stringify(first.rows.slice(0, 3))}`).toBe(true);
  // The progress line said what was running, and how far.
  expect(first.now).toMatch(/^Running cpu \(reference\) · capture pass · node [1-9]\d* of \d+ · the reference: rows appear as its nodes arrive; wasm fills in/);
  // More rows arrived while the reference ran: rows stream, they do not appear all at once at its end.
  const counts = new Set(early.map((s) => s.waiting));
  info.annotations.push({ type: 'streaming', description: `waiting rows seen while the reference ran: ${[...counts].join(', ')}` });

  // Then wasm ran and its rows replaced the waiting ones, compared: at the end every row is wasm's own,
  // with an nrmse (float32 noise against the cpu reference) and verdict ok.
  const final = page.getByTestId('node-count');
  await expect(final).toHaveAttribute('data-waiting', '0');
  const own = Number(await final.getAttribute('data-own'));
  expect(own).toBeGreaterThanOrEqual(first.waiting);
  await expect(final).toHaveText(`${own} of ${own}`);
  const rows = page.getByTestId('node-row');
  await expect(rows.first()).toHaveAttribute('data-verdict', 'ok');
  const values = await page.getByTestId('cell-nrmse').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-value') ?? ''));
  expect(values.length).toBeGreaterThan(0);
  for (const v of values) {
    expect(v).not.toBe('');
    expect(Number(v)).toBeLessThan(1e-4);
  }
  await expect(page.locator('[data-testid=node-row][data-verdict=waiting]')).toHaveCount(0);
  // Rows filled in while wasm ran (a run's first node is rendered at once): wasm's compared rows next
  // to the reference's rows still waiting for it.
  const filling = shots.filter((s) => s.status.wasm === 'running' && s.own > 0 && s.waiting > 0);
  info.annotations.push({ type: 'streaming', description: `states with compared rows while wasm ran: ${filling.length}` });
  expect(filling.length, 'wasm rows compared next to waiting rows while wasm ran').toBeGreaterThan(0);
  const mid = filling[0]!;
  expect(mid.rows.filter((r) => r.from === '').every((r) => r.verdict === 'ok' && r.nrmse !== ''), JSON.stringify(mid.rows.slice(0, 3))).toBe(true);
  expect(mid.rows.some((r) => r.verdict === 'waiting' && r.from === REF)).toBe(true);
  expect(mid.now).toMatch(/^Running wasm · capture pass · node [1-9]\d* of \d+ · compared with the reference node by node/);
  expect(errors).toEqual([]);
});
