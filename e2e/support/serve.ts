/**
 * `exray serve` for the phone-link e2e specs: the build the config's webServer made (no rebuild), a
 * temporary data dir, and 127.0.0.2 as the "LAN" listener. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, type Page } from '@playwright/test';

export async function startServe(port: number, dataDir: string, resumeGraceSeconds: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/exray.mjs', 'serve', '--no-build', '--port', String(port), '--data', dataDir, '--lan-host', '127.0.0.2', '--resume-grace', String(resumeGraceSeconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`exray serve did not start: ${out}`)), 90_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('desktop:')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`exray serve exited with ${code}: ${out}`)));
  });
  return child;
}

/** SIGKILL (a crash, not a shutdown) and wait for the exit. */
export function killServe(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** On a paired phone page: MobileNetV2, the chelsea photo, wasm only; ready to run. */
export async function chooseMobileNetOnWasm(phone: Page): Promise<void> {
  await phone.getByTestId('sample-model-select').selectOption('nsfw-mobilenet-v2');
  await expect(phone.getByTestId('model-name')).toHaveText('nsfw-mobilenet-v2', { timeout: 60_000 });
  await phone.getByTestId('sample-photo-select').selectOption('chelsea.png');
  await expect(phone.getByTestId('phone-run')).toBeEnabled({ timeout: 60_000 });
  for (const b of ['cpu', 'webgl', 'webgpu']) {
    const box = phone.getByTestId(`backend-${b}`);
    if (await box.isChecked()) await box.uncheck();
  }
  await phone.getByTestId('backend-wasm').check();
}
