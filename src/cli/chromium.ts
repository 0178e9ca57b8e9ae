/**
 * How exray launches Chromium (CLI browser runs; the e2e config uses the same list): Debian's
 * chromium or EXRAY_CHROMIUM when present, else Playwright's own browser; software WebGL/WebGPU
 * (SwiftShader) enabled; no background traffic (these machines have no network).
 */
import { existsSync } from 'node:fs';

/**
 * The features Playwright 1.65 disables at every Chromium launch (its `chromiumSwitches`). Chromium
 * honours only the last `--disable-features` on its command line, and Playwright puts the caller's
 * arguments after its own, so ours must carry Playwright's list as well. test/chromium-launch.test.ts
 * fails, naming what is missing, when an upgrade of Playwright changes it.
 */
export const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];

/**
 * Chromium 156 gives every new window (each Playwright context) its omnibox popups as WebUI pages
 * (chrome://omnibox-popup.top-chrome/ and its AI-mode page) in a renderer of their own, headless or
 * not. Measured here: ~1 s of CPU and ~100 resource loads per context, on 2 cores, while the page
 * under test starts beside it. A headless window never shows an omnibox.
 */
export const OMNIBOX_WEBUI_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--enable-unsafe-webgpu',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...OMNIBOX_WEBUI_FEATURES].join(',')}`,
];

export function chromiumLaunchOptions(): { executablePath?: string; args: string[]; headless: boolean } {
  const path = process.env.EXRAY_CHROMIUM ?? '/usr/bin/chromium';
  return { ...(existsSync(path) ? { executablePath: path } : {}), args: CHROMIUM_ARGS, headless: true };
}
