/**
 * exray's Chromium launch (src/cli/chromium.ts), read back from the running browser: Chromium keeps only
 * the last `--disable-features`, so exray's must still hold every feature Playwright disables (this
 * fails, naming them, when a Playwright upgrade changes its list), and a new context gets no omnibox
 * WebUI renderer, which it does get with Playwright's own switches alone.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumLaunchOptions, OMNIBOX_WEBUI_FEATURES } from '../src/cli/chromium.ts';

const OMNIBOX_URL = 'chrome://omnibox-popup.top-chrome/';
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

/** Every `--disable-features` value on the browser process's command line (chrome://version), in order. */
async function disabledFeatureSwitches(b: Browser): Promise<string[][]> {
  const page = await b.newPage();
  await page.goto('chrome://version');
  const line = (await page.locator('#command_line').textContent()) ?? '';
  await page.context().close();
  return line.split(/\s+/).filter((s) => s.startsWith('--disable-features=')).map((s) => s.slice('--disable-features='.length).split(',').filter(Boolean));
}

/** The URLs of the browser's targets once a new context's page has loaded (the omnibox pages come with the window). */
async function targetUrlsOfNewContext(b: Browser): Promise<string[]> {
  const context = await b.newContext();
  const page = await context.newPage();
  await page.goto('about:blank');
  const cdp = await b.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  await cdp.detach();
  await context.close();
  return targetInfos.map((t) => t.url);
}

describe('Chromium as exray launches it', () => {
  it('its --disable-features is the last one and keeps every feature Playwright disables, plus the omnibox WebUI', async () => {
    browser = await chromium.launch(chromiumLaunchOptions());
    const switches = await disabledFeatureSwitches(browser);
    expect(switches.length, 'Playwright passes its own --disable-features before exray\'s').toBeGreaterThanOrEqual(2);
    const last = new Set(switches.at(-1));
    const dropped = switches.slice(0, -1).flat().filter((f) => !last.has(f));
    expect(dropped, 'features an earlier --disable-features names that exray\'s (the one Chromium keeps) drops: add them to PLAYWRIGHT_DISABLED_FEATURES').toEqual([]);
    for (const f of OMNIBOX_WEBUI_FEATURES) expect(last.has(f)).toBe(true);
  });

  it('a new context gets no omnibox WebUI pages; with Playwright\'s switches alone it does', async () => {
    const own = CHROMIUM_ARGS.filter((a) => !a.startsWith('--disable-features='));
    browser = await chromium.launch({ ...chromiumLaunchOptions(), args: own });
    const plain = await targetUrlsOfNewContext(browser);
    expect(plain.some((u) => u.startsWith(OMNIBOX_URL)), `targets: ${plain.join(', ')}`).toBe(true);
    await browser.close();

    browser = await chromium.launch(chromiumLaunchOptions());
    const exray = await targetUrlsOfNewContext(browser);
    expect(exray).toContain('about:blank');
    expect(exray.filter((u) => u.startsWith('chrome://'))).toEqual([]);
  });
});
