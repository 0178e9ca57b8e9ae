/**
 * Open a farm report's index.html from disk (file://) in Chromium, as someone would after CI, and
 * collect every page error and console error (a CSP refusal is one). Screenshots go to test-results/
 * so a failing run can be looked at.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { chromiumLaunchOptions } from '../src/cli/chromium.ts';
import { ROOT } from './helpers.ts';

export interface OpenReport {
  page: Page;
  errors: string[];
  screenshot(name: string): Promise<string>;
  /** Widen or narrow the viewport; then whether the page is wider than it (horizontal overflow). */
  overflowsAt(width: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function openReport(file: string, name: string): Promise<OpenReport> {
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(file).href);
    await page.locator('[data-testid=farm-totals]').waitFor({ timeout: 30_000 });
    // Not test-results/: Playwright empties that folder when its own run starts.
    const dir = join(ROOT, 'test-artifacts');
    await mkdir(dir, { recursive: true });
    const report: OpenReport = {
      page,
      errors,
      screenshot: async (shot) => {
        const path = join(dir, `${name}-${shot}.png`);
        await page.screenshot({ path, fullPage: true });
        return path;
      },
      overflowsAt: async (width) => {
        await page.setViewportSize({ width, height: 800 });
        await page.waitForTimeout(200);
        return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      },
      close: () => browser.close(),
    };
    await report.screenshot('overview');
    return report;
  } catch (e) {
    await browser.close();
    throw e;
  }
}
