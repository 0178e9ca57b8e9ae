/**
 * How exray launches Chromium (CLI browser runs; the e2e config uses the same list): Debian's
 * chromium or EXRAY_CHROMIUM when present, else Playwright's own browser; software WebGL/WebGPU
 * (SwiftShader) enabled; no background traffic (these machines have no network).
 */
import { existsSync } from 'node:fs';

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
];

export function chromiumLaunchOptions(): { executablePath?: string; args: string[]; headless: boolean } {
  const path = process.env.EXRAY_CHROMIUM ?? '/usr/bin/chromium';
  return { ...(existsSync(path) ? { executablePath: path } : {}), args: CHROMIUM_ARGS, headless: true };
}
