/**
 * Phone ↔ desktop through `exray serve`, in real Chromium contexts: a desktop (1400×900) and an
 * emulated Pixel 7 paired with the single-use token of the QR code. The phone runs MobileNetV2 on wasm
 * and the emotion CNN on WebGL with half-float textures (its values sent as float16); the desktop lists the sessions live, opens one while it
 * streams, and shows the server's reference comparison and the named cause.
 *
 * Network: loopback only. 127.0.0.2 stands in for the laptop's LAN address (an untrusted listener
 * where every request carries a token), exactly as a phone on the Wi-Fi would reach it.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devices, expect, test, type Page } from '@playwright/test';
import { decodeTrace } from '../src/trace/file.ts';
import { keepScreenshot } from './helpers.ts';
import { chooseMobileNetOnWasm, killServe, startServe } from './support/serve.ts';

const PORT = Number(process.env.EXRAY_E2E_SERVE_PORT ?? 4319);
const DESKTOP = `http://127.0.0.1:${PORT}/`;
let server: ChildProcess;
let dataDir: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'exray-e2e-serve-'));
  server = await startServe(PORT, dataDir, 5);
});

test.afterAll(async () => {
  await killServe(server);
  rmSync(dataDir, { recursive: true, force: true });
});

async function noHorizontalOverflow(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll, 'page wider than the viewport').toBeLessThanOrEqual(width);
}

async function pairingUrl(desktop: Page): Promise<string> {
  const url = (await desktop.getByTestId('pairing-url').textContent())?.trim() ?? '';
  expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.2:${PORT}/\\?phone#pair=[0-9a-f]{32}$`));
  return url;
}

test('a Pixel 7 runs MobileNetV2 on wasm and the emotion CNN on half-float WebGL; the desktop shows it live with the reference and the cause', async ({ browser }, info) => {
  test.setTimeout(600_000);
  const desktopCtx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const desktop = await desktopCtx.newPage();
  await desktop.goto(DESKTOP);
  await expect(desktop.getByTestId('phones-panel')).toBeVisible();
  await expect(desktop.getByTestId('pairing-qr')).toHaveAttribute('src', /^data:image\/svg\+xml/);
  const url = await pairingUrl(desktop);

  const phoneCtx = await browser.newContext({ ...devices['Pixel 7'] });
  const phone = await phoneCtx.newPage();
  await phone.goto(url);
  await expect(phone.getByTestId('phone-page')).toBeVisible();
  await expect(phone.getByTestId('link-state')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  // The fragment (the single-use token) is gone from the address bar, and the desktop lists the phone.
  expect(phone.url()).not.toContain('#pair=');
  await expect(desktop.getByTestId('device-row')).toHaveCount(1);
  await expect(desktop.getByTestId('device-row')).toHaveAttribute('data-online', 'true');
  // A new code for the next phone.
  await expect.poll(() => pairingUrl(desktop)).not.toBe(url);

  await chooseMobileNetOnWasm(phone);
  await phone.getByTestId('phone-run').click();

  // The session shows up on the desktop while the phone is still running, and opens mid-stream.
  const row = desktop.getByTestId('session-row').first();
  await expect(row).toHaveAttribute('data-status', 'streaming', { timeout: 60_000 });
  await row.getByTestId('open-session').click();
  await expect(desktop.getByTestId('node-row').first()).toBeVisible({ timeout: 60_000 });
  const phoneRow = phone.getByTestId('phone-run-row').first();
  expect(await phoneRow.getAttribute('data-status')).not.toBe('done');
  const wasmId = await row.getAttribute('data-session');

  await expect(phoneRow).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const wasmRow = desktop.locator(`[data-testid=session-row][data-session="${wasmId}"]`);
  await expect(wasmRow).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(wasmRow).toHaveAttribute('data-verdict', 'ok', { timeout: 120_000 });
  await expect(wasmRow).toHaveAttribute('data-cause', 'none', { timeout: 120_000 });
  await noHorizontalOverflow(phone);
  await keepScreenshot(desktop, info, 'desktop-phone-session-wasm');
  await keepScreenshot(phone, info, 'phone-after-wasm');

  // Half-float WebGL, the phone-GPU case, on the small emotion CNN (MobileNetV2's half-float WebGL run
  // costs a minute of the suite on SwiftShader; the emotion CNN diverges on it all the same).
  await phone.getByTestId('sample-model-select').selectOption('emotion');
  await expect(phone.getByTestId('model-name')).toHaveText('emotion', { timeout: 60_000 });
  await phone.getByTestId('sample-photo-select').selectOption('chelsea.png');
  await expect(phone.getByTestId('phone-run')).toBeEnabled({ timeout: 60_000 });
  await phone.getByTestId('backend-wasm').uncheck();
  await phone.getByTestId('backend-webgl').check();
  await phone.getByTestId('opt-webgl-f16').check();
  // This run's node values travel as float16 (half the bytes on the link); the stored trace says so.
  await phone.getByTestId('opt-link-precision').selectOption('float16');
  await phone.getByTestId('phone-run').click();
  const f16Row = desktop.locator('[data-testid=session-row]').filter({ hasNot: desktop.locator(`[data-session="${wasmId}"]`) }).first();
  await expect(f16Row).toHaveAttribute('data-status', /streaming|done/, { timeout: 120_000 });
  const f16Id = await f16Row.getAttribute('data-session');
  expect(f16Id).not.toBe(wasmId);
  const f16 = desktop.locator(`[data-testid=session-row][data-session="${f16Id}"]`);
  await expect(f16).toHaveAttribute('data-status', 'done', { timeout: 300_000 });
  await expect(f16).toHaveAttribute('data-verdict', 'diverged', { timeout: 120_000 });
  await expect(f16).toHaveAttribute('data-cause', 'float16', { timeout: 120_000 });
  const stored = await desktop.request.get(`${DESKTOP}api/sessions/${f16Id}/trace`);
  expect(stored.status()).toBe(200);
  const f16Trace = decodeTrace(new Uint8Array(await stored.body()), `${f16Id}.exray`);
  expect(f16Trace.header.storagePrecision).toBe('float16');
  expect(f16Trace.header.nodes.length).toBeGreaterThan(10);
  await expect(f16).toContainText(/first|→|block_|conv|Conv/i);
  await f16.getByTestId('open-session').click();
  await expect(desktop.getByTestId('server-diagnosis')).toHaveAttribute('data-cause', 'float16', { timeout: 60_000 });
  // The opened session is a run like any other on the page: its own comparison with the server's
  // reference trace reaches the same verdict, and the node table has every node's error.
  const summary = desktop.locator('[data-testid=summary-row][data-stream$="webgl f16"]');
  await expect(summary).toHaveAttribute('data-verdict', 'diverged', { timeout: 180_000 });
  await expect(desktop.locator('[data-testid=cell-nrmse][data-value=""]')).toHaveCount(0, { timeout: 60_000 });
  await noHorizontalOverflow(phone);
  await keepScreenshot(desktop, info, 'desktop-phone-session-f16');
  await keepScreenshot(phone, info, 'phone-after-f16');

  // An iPhone pairs with the next code and gets the phone layout without overflow.
  const iphoneCtx = await browser.newContext({ ...devices['iPhone 15'] });
  const iphone = await iphoneCtx.newPage();
  await iphone.goto(await pairingUrl(desktop));
  await expect(iphone.getByTestId('link-state')).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  await expect(desktop.getByTestId('device-row')).toHaveCount(2);
  await noHorizontalOverflow(iphone);

  // Revoking the Pixel cuts it off at once.
  const pixel = desktop.getByTestId('device-row').first();
  await pixel.getByTestId('revoke-device').click();
  await expect(desktop.getByTestId('device-row')).toHaveCount(1);
  await expect(phone.getByTestId('link-state')).not.toHaveAttribute('data-state', 'open', { timeout: 30_000 });
  await Promise.all([phoneCtx.close(), iphoneCtx.close(), desktopCtx.close()]);
});

test('without the token the phone URL gives nothing', async ({ browser }) => {
  const ctx = await browser.newContext({ ...devices['Pixel 7'] });
  const page = await ctx.newPage();
  await page.goto(`http://127.0.0.2:${PORT}/?phone`);
  await expect(page.getByTestId('link-state')).toHaveAttribute('data-state', 'unpaired', { timeout: 30_000 });
  const r = await page.request.get(`http://127.0.0.2:${PORT}/api/sessions`);
  expect(r.status()).toBe(401);
  await ctx.close();
});
