/**
 * End-to-end tests of the exray page: a real Chromium (Debian's by default: Playwright's own browser
 * downloads do not work on every machine), real models, real photos, nothing mocked.
 * Software rendering (SwiftShader) is slow and CPU-bound: one worker, generous timeouts.
 */
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './src/cli/chromium.ts';

const PORT = Number(process.env.EXRAY_E2E_PORT ?? 4317);

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}/`,
    browserName: 'chromium',
    launchOptions: {
      // Debian's chromium when present (or EXRAY_CHROMIUM), else Playwright's bundled browser.
      executablePath: chromiumLaunchOptions().executablePath,
      args: chromiumLaunchOptions().args,
    },
    viewport: { width: 1400, height: 1000 },
    trace: 'off',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
  },
  webServer: {
    command: `npx vite build && npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
