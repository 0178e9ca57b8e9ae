/**
 * The devices of a farm run, each reached the way its spec says:
 *
 * - `emulate`: a Playwright device descriptor in a context of one shared local Chromium;
 * - `connect`: `chromium.connect` to a `playwright run-server`, with `exposeNetwork: '<loopback>'` so
 *   the remote browser reaches the page this process serves on loopback;
 * - `cdp`: `chromium.connectOverCDP`;
 * - `android`: Playwright's `_android` over adb, after `adb reverse tcp:PORT tcp:PORT` so the phone
 *   opens `http://localhost:PORT/` (a secure context). Not testable without a phone.
 *
 * A device connects once, lazily; a failed connection (or a browser that disconnects later) is
 * remembered, and every later cell of the device fails at once with that reason (FinalError: no retry).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumLaunchOptions } from '../cli/chromium.ts';
import { deviceName, type FarmDeviceSpec } from './config.ts';
import { FinalError } from './pool.ts';

export interface DevicePage {
  page: Page;
  close(): Promise<void>;
}

export interface FarmDevice {
  name: string;
  kind: 'emulate' | 'connect' | 'cdp' | 'android';
  /** A fresh page (its own context where the device allows it) for one cell. */
  openPage(): Promise<DevicePage>;
  /** The URL the device opens the served page at. */
  baseUrl(): string;
  /** Why the device is gone; null while it is reachable (or not yet tried). */
  lost(): string | null;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 30_000;

function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.trim()).slice(0, 3).join(' ');
}

/** Playwright answers a client of another version with HTTP 428: say so plainly. */
export function connectFailure(endpoint: string, e: unknown, full = endpoint): string {
  // The endpoint's query may carry a token: the message names the endpoint without it.
  const m = messageOf(e).split(full).join(endpoint);
  if (/\b428\b|version mismatch|Precondition Required/i.test(m)) return `unreachable: Playwright version mismatch (HTTP 428) at ${endpoint}: run the same playwright version on both sides (${m})`;
  return `unreachable: ${endpoint}: ${m}`;
}

/** One local Chromium shared by every emulated device, launched on first use. */
export class LocalChromium {
  private browser: Promise<Browser> | null = null;

  get(): Promise<Browser> {
    this.browser ??= import('playwright-core').then(({ chromium }) => chromium.launch(chromiumLaunchOptions()));
    return this.browser;
  }

  async close(): Promise<void> {
    if (!this.browser) return;
    const b = await this.browser.catch(() => null);
    await b?.close().catch(() => {});
  }
}

/** How long a call that failed on a connected browser waits for it to say it is gone. */
export const DISCONNECT_GRACE_MS = 2000;

/**
 * Whether `e`, thrown by a call on `b`, means the browser is gone. The `disconnected` event can come
 * after the failed call: a browser that is closing answers "Failed to open a new tab" while it is
 * still connected. So the message is read, and a browser that still looks connected is given
 * DISCONNECT_GRACE_MS to disconnect before `e` is taken for a failure of its own.
 */
export async function lostBrowser(b: Pick<Browser, 'isConnected' | 'once' | 'off'>, e: unknown, graceMs = DISCONNECT_GRACE_MS): Promise<boolean> {
  if (!b.isConnected() || /(Browser|Target page, context or browser) (has been )?closed/i.test(messageOf(e))) return true;
  return new Promise((resolve) => {
    const on = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      b.off('disconnected', on);
      resolve(!b.isConnected());
    }, graceMs);
    b.once('disconnected', on);
  });
}

/** Pages on a Browser: one context per cell (device emulation lives in the context). */
function browserDevice(name: string, kind: FarmDevice['kind'], base: string, connect: () => Promise<Browser>, contextOptions: Record<string, unknown>, ownsBrowser: boolean): FarmDevice {
  let browser: Promise<Browser> | null = null;
  let lostReason: string | null = null;
  const get = (): Promise<Browser> => {
    browser ??= connect().then((b) => {
      b.on('disconnected', () => {
        lostReason ??= 'device lost: the browser disconnected';
      });
      return b;
    });
    return browser.catch((e: unknown) => {
      lostReason ??= e instanceof FinalError ? e.message : `unreachable: ${messageOf(e)}`;
      throw new FinalError(lostReason);
    });
  };
  return {
    name,
    kind,
    baseUrl: () => base,
    lost: () => lostReason,
    async openPage() {
      if (lostReason) throw new FinalError(lostReason);
      const b = await get();
      const gone = (): FinalError => new FinalError((lostReason ??= 'device lost: the browser disconnected'));
      if (!b.isConnected()) throw gone();
      const lostIn = async (e: unknown): Promise<unknown> => ((await lostBrowser(b, e)) ? gone() : e);
      let context: BrowserContext;
      try {
        context = await b.newContext(contextOptions);
      } catch (e) {
        throw await lostIn(e);
      }
      try {
        const page = await context.newPage();
        return { page, close: () => context.close().catch(() => {}) };
      } catch (e) {
        await context.close().catch(() => {});
        throw await lostIn(e);
      }
    },
    async close() {
      if (!browser || !ownsBrowser) return;
      const b = await browser.catch(() => null);
      await b?.close().catch(() => {});
    },
  };
}

async function adb(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('adb', args, { timeout: 15_000 });
  return stdout;
}

function androidDevice(name: string, serial: string, port: number): FarmDevice {
  let context: Promise<{ context: BrowserContext; close(): Promise<void> }> | null = null;
  let lostReason: string | null = null;
  const connect = async (): Promise<{ context: BrowserContext; close(): Promise<void> }> => {
    try {
      await adb(['-s', serial, 'reverse', `tcp:${port}`, `tcp:${port}`]);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      throw new FinalError(err.code === 'ENOENT' ? 'unreachable: adb is not on PATH (install Android platform-tools)' : `unreachable: adb reverse on ${serial} failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`);
    }
    const { _android } = await import('playwright-core');
    const devices = await _android.devices({ omitDriverInstall: false });
    const device = devices.find((d) => d.serial() === serial);
    for (const d of devices) if (d !== device) await d.close().catch(() => {});
    if (!device) throw new FinalError(`unreachable: no Android device ${serial} (adb devices lists ${devices.map((d) => d.serial()).join(', ') || 'none'})`);
    device.on('close', () => {
      lostReason ??= 'device lost: the Android device disconnected';
    });
    const ctx = await device.launchBrowser();
    return {
      context: ctx,
      close: async () => {
        await ctx.close().catch(() => {});
        await device.close().catch(() => {});
      },
    };
  };
  const get = async (): Promise<BrowserContext> => {
    context ??= connect();
    try {
      return (await context).context;
    } catch (e) {
      lostReason ??= e instanceof FinalError ? e.message : `unreachable: ${messageOf(e)}`;
      throw new FinalError(lostReason);
    }
  };
  return {
    name,
    kind: 'android',
    // adb reverse: the phone's localhost is this machine's loopback port, and localhost is a secure context.
    baseUrl: () => `http://localhost:${port}/`,
    lost: () => lostReason,
    async openPage() {
      if (lostReason) throw new FinalError(lostReason);
      const page = await (await get()).newPage();
      return { page, close: () => page.close().catch(() => {}) };
    },
    async close() {
      if (!context) return;
      const c = await context.catch(() => null);
      await c?.close();
    },
  };
}

/**
 * The device of a spec. `base` is the served page on loopback (http://127.0.0.1:PORT/), `port` its port.
 * Throws FinalError only from openPage (an unknown emulation name is a config error, checked before).
 */
export async function makeDevice(spec: FarmDeviceSpec, local: LocalChromium, base: string, port: number): Promise<FarmDevice> {
  const name = deviceName(spec);
  const { chromium, devices } = await import('playwright-core');
  if ('emulate' in spec) {
    const descriptor = devices[spec.emulate];
    if (!descriptor) throw new FinalError(`unknown Playwright device "${spec.emulate}"`);
    // The descriptor's browser type (webkit for iPhones) is not a context option: the farm runs Chromium.
    const { defaultBrowserType: _type, ...contextOptions } = descriptor;
    void _type;
    return browserDevice(name, 'emulate', base, () => local.get(), contextOptions, false);
  }
  if ('connect' in spec) {
    const connect = async (): Promise<Browser> => {
      try {
        return await chromium.connect(spec.connect, { headers: spec.headers ?? {}, exposeNetwork: spec.exposeNetwork ?? '<loopback>', timeout: CONNECT_TIMEOUT_MS });
      } catch (e) {
        throw new FinalError(connectFailure(spec.connect.replace(/[?#].*$/, ''), e, spec.connect));
      }
    };
    return browserDevice(name, 'connect', base, connect, {}, true);
  }
  if ('cdp' in spec) {
    const connect = async (): Promise<Browser> => {
      try {
        return await chromium.connectOverCDP(spec.cdp, { timeout: CONNECT_TIMEOUT_MS });
      } catch (e) {
        throw new FinalError(connectFailure(spec.cdp.replace(/[?#].*$/, ''), e, spec.cdp));
      }
    };
    return browserDevice(name, 'cdp', base, connect, {}, true);
  }
  return androidDevice(name, spec.android, port);
}

/** Known Playwright device descriptor names (for config checks). */
export async function knownEmulations(): Promise<Set<string>> {
  const { devices } = await import('playwright-core');
  return new Set(Object.keys(devices));
}
