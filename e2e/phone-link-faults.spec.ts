/**
 * The phone link's faults in a real browser: `exray serve` killed (SIGKILL) and restarted while a
 * Pixel 7 streams MobileNetV2 — the phone page reconnects, resumes and re-sends, and the stored trace
 * is whole; then the phone page reloaded mid-run — the run is stored as incomplete with what arrived.
 * Loopback only (127.0.0.2 stands in for the LAN address).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devices, expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { chooseMobileNetOnWasm, killServe, startServe } from './support/serve.ts';

const PORT = Number(process.env.EXRAY_E2E_FAULTS_PORT ?? 4321);
const DESKTOP = `http://127.0.0.1:${PORT}`;
let dataDir: string;
let server: ChildProcess | null = null;

test.describe.configure({ mode: 'serial' });

function startServer(): Promise<ChildProcess> {
  return startServe(PORT, dataDir, 30);
}

interface Info {
  id: string;
  status: string;
  nodes: number;
  declaredNodes: number;
  reason: string | null;
}

async function sessions(request: APIRequestContext): Promise<Info[]> {
  const r = await request.get(`${DESKTOP}/api/sessions`);
  return r.ok() ? ((await r.json()) as Info[]) : [];
}

async function pairedPhone(browser: import('@playwright/test').Browser, request: APIRequestContext): Promise<Page> {
  const { url } = (await (await request.get(`${DESKTOP}/api/pairing`)).json()) as { url: string };
  const ctx = await browser.newContext({ ...devices['Pixel 7'] });
  const phone = await ctx.newPage();
  await phone.goto(url);
  await expect(phone.getByTestId('link-state')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  await chooseMobileNetOnWasm(phone);
  return phone;
}

/** The first session that has some nodes stored and is still streaming. */
async function midRun(request: APIRequestContext, skip: Set<string>): Promise<Info> {
  let found: Info | undefined;
  await expect
    .poll(
      async () => {
        found = (await sessions(request)).find((s) => !skip.has(s.id) && s.status === 'streaming' && s.nodes > 5);
        return found !== undefined;
      },
      { timeout: 120_000, intervals: [50] },
    )
    .toBe(true);
  return found!;
}

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'exray-e2e-faults-'));
  server = await startServer();
});

test.afterAll(async () => {
  await killServe(server);
  rmSync(dataDir, { recursive: true, force: true });
});

test('exray serve killed and restarted mid-run: the phone resumes and the stored trace is whole', async ({ browser, request }) => {
  test.setTimeout(300_000);
  const phone = await pairedPhone(browser, request);
  await phone.getByTestId('phone-run').click();
  const s = await midRun(request, new Set());
  await killServe(server);
  await expect(phone.getByTestId('link-state')).not.toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  server = await startServer();
  // The status with its reason, so a session that failed says why.
  await expect
    .poll(async () => {
      const x = (await sessions(request)).find((y) => y.id === s.id);
      return x?.status === 'done' || !x ? x?.status : `${x.status}: ${x.reason ?? 'no reason'}`;
    }, { timeout: 180_000 })
    .toBe('done');
  const info = (await sessions(request)).find((x) => x.id === s.id)!;
  expect(info.nodes).toBeGreaterThan(s.nodes);
  // The stored trace validated when it was finalized; it also holds every node the model declares
  // and nothing was left out for a slow link.
  const trace = await request.get(`${DESKTOP}/api/sessions/${s.id}/trace`);
  expect(trace.ok()).toBe(true);
  await expect(phone.getByTestId('phone-run-row').first()).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  expect((await phone.getByTestId('phone-run-row').first().textContent()) ?? '').not.toMatch(/link too slow/);
  await phone.context().close();
});

test('the phone page reloaded mid-run: the run is stored as incomplete, with what arrived', async ({ browser, request }) => {
  test.setTimeout(300_000);
  const before = new Set((await sessions(request)).map((s) => s.id));
  const phone = await pairedPhone(browser, request);
  await phone.getByTestId('phone-run').click();
  const s = await midRun(request, before);
  await phone.reload();
  await expect
    .poll(async () => (await sessions(request)).find((x) => x.id === s.id)?.status, { timeout: 90_000 })
    .toBe('incomplete');
  const info = (await sessions(request)).find((x) => x.id === s.id)!;
  expect(info.reason).toMatch(/did not resume/);
  // What arrived is readable as a partial trace.
  expect((await request.get(`${DESKTOP}/api/sessions/${s.id}/trace`)).ok()).toBe(true);
  await phone.context().close();
});
