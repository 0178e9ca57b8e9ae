/**
 * The agent in an app that is not exray (examples/classifier, its own server and origin), opened in an
 * emulated Pixel 7 with the one agent line: every inference the app makes streams to `exray serve`,
 * the desktop page shows each session live, and the server's diagnosis names the bug the app's own
 * pre-processing has (channel order, range, EXIF orientation), or none. With the server gone, the app
 * still classifies. Loopback only: exray serve on 127.0.0.1 (+127.0.0.2 as its "LAN"), the app on
 * 127.0.0.1 on another port (another site).
 */
import { devices, expect, test, type Page } from '@playwright/test';
import { agentCounters, agentScriptUrl, agentServers } from './support/agent-app.ts';

const PORT = 4323;
const DESKTOP = `http://127.0.0.1:${PORT}/`;
const servers = agentServers(PORT, 'exray-agent-e2e-');

async function agentScript(): Promise<string> {
  const { url, line } = await agentScriptUrl(DESKTOP);
  expect(line).toMatch(/^<script type="module" src="http:\/\/127\.0\.0\.2:\d+\/agent\.js#t=[0-9a-f]{32}"><\/script>$/);
  return url;
}

async function classified(page: Page, runs: number): Promise<void> {
  await expect(page.locator('#runs')).toHaveAttribute('data-count', String(runs), { timeout: 120_000 });
  await expect(page.locator('#result')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
}

test('the example app with the agent line: each inference is a session on the desktop, and the app\'s bug is named', async ({ browser }) => {
  test.setTimeout(900_000);
  // every=1: every inference of the app is captured (the default is the first only).
  const agentUrl = `${await agentScript()}&every=1`;
  const desktopCtx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const desktop = await desktopCtx.newPage();
  await desktop.goto(DESKTOP);
  await expect(desktop.getByTestId('phones-panel')).toBeVisible();

  const phoneCtx = await browser.newContext({ ...devices['Pixel 7'] });
  const phone = await phoneCtx.newPage();
  const logs: string[] = [];
  phone.on('console', (m) => logs.push(m.text()));
  await phone.goto(`${servers.app.url}?backend=cpu&img=/images/chelsea_exif6.jpg&bug=none&exray=${encodeURIComponent(agentUrl)}`);
  await classified(phone, 1);
  const plainTop = await phone.locator('#result').getAttribute('data-probs');

  const rows = desktop.getByTestId('session-row');
  await expect(rows).toHaveCount(1, { timeout: 60_000 });
  const first = rows.first();
  await expect(first).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(first).toHaveAttribute('data-cause', 'none', { timeout: 180_000 });
  await expect(first).toContainText('agent cpu');

  const expected: [string, string][] = [
    ['bgr', 'channel-order'],
    ['range', 'normalization'],
    ['exif', 'orientation'],
  ];
  let n = 1;
  for (const [bug, cause] of expected) {
    const before = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-session')));
    await phone.locator('#bug').selectOption(bug);
    await classified(phone, ++n);
    await expect(rows).toHaveCount(n, { timeout: 60_000 });
    const row = rows.filter({ hasNot: desktop.locator(before.map((id) => `[data-session="${id}"]`).join(',')) }).first();
    const id = await row.getAttribute('data-session');
    const mine = desktop.locator(`[data-testid=session-row][data-session="${id}"]`);
    await expect(mine, `bug=${bug}`).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
    await expect(mine, `bug=${bug}`).toHaveAttribute('data-cause', cause, { timeout: 180_000 });
    // Opened: the server's diagnosis is on the page, at the model's input.
    await mine.getByTestId('open-session').click();
    await expect(desktop.getByTestId('server-diagnosis'), `bug=${bug}`).toHaveAttribute('data-cause', cause, { timeout: 60_000 });
  }
  // The app's own results did not change because the agent was there (same input, same numbers).
  await phone.locator('#bug').selectOption('none');
  await classified(phone, ++n);
  expect(await phone.locator('#result').getAttribute('data-probs')).toBe(plainTop);
  expect(logs.join('\n')).toMatch(/exray agent: attached/);
  expect(logs.join('\n')).not.toMatch(/exray agent: .*(dropped|failed)/);
  await desktopCtx.close();
  await phoneCtx.close();
});

test('webgl: the app\'s results are bit-identical with the agent attached (node outputs read from kept clones)', async ({ browser }) => {
  test.setTimeout(300_000);
  const agentUrl = `${await agentScript()}&every=1`;
  const ctx = await browser.newContext({ ...devices['Pixel 7'] });
  const page = await ctx.newPage();
  await page.goto(`${servers.app.url}?backend=webgl&img=/images/chelsea.png`);
  await classified(page, 1);
  const without = await page.locator('#result').getAttribute('data-probs');
  const before = (await (await fetch(`${DESKTOP}api/sessions`)).json()) as unknown[];
  await page.goto(`${servers.app.url}?backend=webgl&img=/images/chelsea.png&exray=${encodeURIComponent(agentUrl)}`);
  await classified(page, 1);
  await page.locator('#again').click();
  await classified(page, 2);
  expect(await page.locator('#result').getAttribute('data-probs')).toBe(without);
  const counters = await agentCounters(page);
  expect(counters).toMatchObject({ inferences: 2, captured: 2, shipped: 2, dropped: 0, failed: 0 });
  type Row = { backend: string; nodes: number; status: string };
  const mineNow = async (): Promise<Row[]> => {
    const after = (await (await fetch(`${DESKTOP}api/sessions`)).json()) as Row[];
    return after.slice(0, after.length - before.length);
  };
  // Acknowledged by the server; its bookkeeping of the end follows a moment later.
  await expect.poll(async () => (await mineNow()).map((s) => `${s.backend} ${s.status}`), { timeout: 30_000 }).toEqual(['webgl done', 'webgl done']);
  const mine = await mineNow();
  expect(mine[0]!.nodes).toBeGreaterThan(60);
  await ctx.close();
});

test('onnxruntime-web: the ONNX variant is traced too, and its colour bug is named', async ({ browser }) => {
  test.setTimeout(600_000);
  const agentUrl = `${await agentScript()}&every=1`;
  const desktop = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await desktop.goto(DESKTOP);
  const ctx = await browser.newContext({ ...devices['Pixel 7'] });
  const page = await ctx.newPage();
  const rows = desktop.getByTestId('session-row');
  const before = ((await (await fetch(`${DESKTOP}api/sessions`)).json()) as unknown[]).length;
  await expect(rows).toHaveCount(before, { timeout: 30_000 });
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(`${servers.app.url}?runtime=onnx&img=/images/coffee.png&bug=none&exray=${encodeURIComponent(agentUrl)}`);
  await classified(page, 1);
  // Every capture delivered: the session was created after the agent attached, so the model is known.
  const counters = await agentCounters(page);
  expect(counters).toMatchObject({ captured: 1, shipped: 1, failed: 0 });
  expect(logs.join('\n')).not.toMatch(/could not/);
  await expect(rows).toHaveCount(before + 1, { timeout: 60_000 });
  await expect(rows.first()).toHaveAttribute('data-cause', 'none', { timeout: 180_000 });
  await page.locator('#bug').selectOption('bgr');
  await classified(page, 2);
  await expect(rows).toHaveCount(before + 2, { timeout: 60_000 });
  // Newest first.
  const row = rows.first();
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  // Named as the server knows the model (its bundled card), though the app loaded /onnx-model/model.onnx.
  await expect(row).toContainText('ppocr-mobile-v2-cls');
  await expect(row).toHaveAttribute('data-cause', 'channel-order', { timeout: 180_000 });
  await ctx.close();
});

test('the desktop shows the line to paste, and "capture next inference" captures exactly the app\'s next one', async ({ browser }) => {
  test.setTimeout(300_000);
  const agentUrl = await agentScript(); // default sampling: the first inference of each model only
  const desktop = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  await desktop.goto(DESKTOP);
  await expect(desktop.getByTestId('agent-line')).toContainText(/agent\.js#t=[0-9a-f]{32}/);
  const ctx = await browser.newContext({ ...devices['Pixel 7'] });
  const page = await ctx.newPage();
  const rows = desktop.getByTestId('session-row');
  const before = ((await (await fetch(`${DESKTOP}api/sessions`)).json()) as unknown[]).length;
  await expect(rows).toHaveCount(before, { timeout: 30_000 });
  await page.goto(`${servers.app.url}?backend=cpu&img=/images/chelsea.png&exray=${encodeURIComponent(agentUrl)}`);
  await classified(page, 1);
  await expect(rows).toHaveCount(before + 1, { timeout: 60_000 });
  await page.locator('#again').click();
  await classified(page, 2);
  const agentRow = desktop.locator('[data-testid=device-row][data-device=agent]');
  await expect(agentRow).toHaveAttribute('data-online', 'true', { timeout: 30_000 });
  await agentRow.getByTestId('capture-next').click();
  await expect(desktop.getByTestId('capture-note')).toHaveText(/asked the app/, { timeout: 30_000 });
  await page.locator('#again').click();
  await classified(page, 3);
  await page.locator('#again').click();
  await classified(page, 4);
  // Inferences 1 (first) and 3 (asked for); 2 and 4 timed only.
  const counters = await agentCounters(page);
  expect(counters).toMatchObject({ inferences: 4, captured: 2, shipped: 2 });
  await expect(rows).toHaveCount(before + 2, { timeout: 60_000 });
  await ctx.close();
});

test('exray serve gone mid-session: the app still classifies, the agent drops captures and says so once', async ({ browser }) => {
  test.setTimeout(300_000);
  const agentUrl = `${await agentScript()}&every=1`;
  const ctx = await browser.newContext({ ...devices['Pixel 7'] });
  const page = await ctx.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  await page.goto(`${servers.app.url}?backend=cpu&img=/images/chelsea.png&exray=${encodeURIComponent(agentUrl)}`);
  await classified(page, 1);
  const top = await page.locator('#result').getAttribute('data-probs');
  await servers.killServe();
  for (let n = 2; n <= 4; n++) {
    await page.locator('#again').click();
    await classified(page, n);
    expect(await page.locator('#result').getAttribute('data-probs')).toBe(top);
  }
  const counters = await page.evaluate(() => (globalThis as unknown as { exray?: { counters: Record<string, number> } }).exray?.counters ?? null);
  expect(counters).toMatchObject({ inferences: 4 });
  expect(counters!['dropped']! + counters!['failed']!).toBeGreaterThanOrEqual(1);
  expect(logs.filter((l) => /exray agent: a capture was dropped/.test(l))).toHaveLength(1);
  await ctx.close();
});
