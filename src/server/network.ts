/**
 * Where `exray serve` can be reached from a phone: LAN addresses (printed, never contacted), the
 * self-signed certificate for `--https`, and `adb reverse` for a phone on USB.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { writeFileAtomic } from './atomic.ts';

/** Non-internal IPv4 addresses of this machine (what a phone on the same Wi-Fi can reach). */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/**
 * The certificate in `<data>/tls/`: made once (RSA 2048, SHA-256, serverAuth, 825 days: Apple's
 * limits) with `localhost`, 127.0.0.1, ::1 and the LAN addresses in subjectAltName; made again when a
 * LAN address it does not name appears or it expires.
 */
export async function selfSignedCertificate(dataDir: string, ips: readonly string[]): Promise<{ cert: string; key: string; created: boolean; file: string }> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    const x = new X509Certificate(cert);
    const names = x.subjectAltName ?? '';
    const covers = ips.every((ip) => names.includes(`IP Address:${ip}`));
    if (covers && new Date(x.validTo).getTime() > Date.now() + 86_400_000) return { cert, key, created: false, file: certFile };
  } catch {
    // missing or unreadable: make a new one
  }
  const notAfter = new Date(Date.now() + 825 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: 'exray serve' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }, ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(keyFile, pems.private);
  await writeFileAtomic(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, created: true, file: certFile };
}

/** `adb reverse tcp:PORT tcp:PORT`: the phone on USB opens http://localhost:PORT (a secure context). */
export async function adbReverse(port: number): Promise<string> {
  try {
    await promisify(execFile)('adb', ['reverse', `tcp:${port}`, `tcp:${port}`], { timeout: 10_000 });
    return `adb reverse tcp:${port} tcp:${port}: the phone on USB opens http://localhost:${port}/?phone`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') return '--adb: adb is not on PATH (install Android platform-tools)';
    return `--adb: adb reverse failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`;
  }
}
