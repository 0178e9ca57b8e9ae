/**
 * `exray serve` for the phone-link e2e specs: the build the config's webServer made (no rebuild), a
 * temporary data dir, and 127.0.0.2 as the "LAN" listener. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';

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
