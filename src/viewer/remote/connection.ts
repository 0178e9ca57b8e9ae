/**
 * Is this page served by `exray serve`, and as whom? The pairing flow, the device token in
 * localStorage, and fetch helpers that carry the Bearer token.
 *
 * Served by anything else (vite dev / preview, the e2e server), `/api/whoami` 404s or answers the SPA's
 * index.html: detection then says `none` and the page stays exactly as it was.
 */
import { describeUserAgent } from './user-agent.ts';

export type Role = 'desktop' | 'device';

export interface Identity {
  role: Role;
  deviceId: string;
  /** Bearer token for the API and the socket. */
  token: string;
}

export type Detection =
  | { kind: 'none' }
  | { kind: 'remote'; identity: Identity }
  /** Served by exray, but this phone has no (valid) token: the page says what to do. */
  | { kind: 'unpaired'; problem: string };

export const DEVICE_KEY = 'exray.device';
const TIMEOUT_MS = 5000;

interface StoredDevice {
  deviceId: string;
  token: string;
  origin: string;
}

export function storedDevice(): StoredDevice | null {
  try {
    const raw = localStorage.getItem(DEVICE_KEY);
    if (!raw) return null;
    const d = JSON.parse(raw) as Partial<StoredDevice>;
    if (typeof d.deviceId !== 'string' || typeof d.token !== 'string' || d.origin !== location.origin) return null;
    return { deviceId: d.deviceId, token: d.token, origin: d.origin };
  } catch {
    return null; // private mode without storage, or a value we did not write
  }
}

function storeDevice(d: StoredDevice): void {
  try {
    localStorage.setItem(DEVICE_KEY, JSON.stringify(d));
  } catch {
    // the token then lives only as long as this page
  }
}

export function forgetDevice(): void {
  try {
    localStorage.removeItem(DEVICE_KEY);
  } catch {
    // nothing stored
  }
}

/** A JSON body, or null when the answer is not JSON (the SPA fallback's index.html). */
async function jsonOf(res: Response): Promise<unknown> {
  if (!(res.headers.get('content-type') ?? '').includes('json')) return null;
  try {
    return (await res.json()) as unknown;
  } catch {
    return null;
  }
}

function errorOf(body: unknown, res: Response): string {
  const e = (body as { error?: unknown } | null)?.error;
  return typeof e === 'string' ? e : `HTTP ${res.status} ${res.statusText}`.trim();
}

type WhoAmI = { ok: true; role: Role; deviceId: string; token: string | null } | { ok: false; status: number; exray: boolean };

async function whoami(token: string | null): Promise<WhoAmI> {
  let res: Response;
  try {
    res = await fetch('/api/whoami', { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS), cache: 'no-store' });
  } catch {
    return { ok: false, status: 0, exray: false };
  }
  const body = (await jsonOf(res)) as { role?: unknown; deviceId?: unknown; token?: unknown; error?: unknown } | null;
  if (res.ok && body && (body.role === 'desktop' || body.role === 'device') && typeof body.deviceId === 'string') {
    return { ok: true, role: body.role, deviceId: body.deviceId, token: typeof body.token === 'string' ? body.token : null };
  }
  // A JSON 401 is exray serve refusing us; anything else (404, HTML) is not exray serve.
  return { ok: false, status: res.status, exray: res.status === 401 && body !== null && typeof body.error === 'string' };
}

/** Trade the single-use pairing token (from the QR code's `#pair=`) for a device token. */
async function pair(pairingToken: string): Promise<StoredDevice | { problem: string }> {
  let res: Response;
  try {
    res = await fetch('/api/pair', {
      method: 'POST',
      headers: { Authorization: `Bearer ${pairingToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: describeUserAgent(navigator.userAgent), userAgent: navigator.userAgent }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    return { problem: `pairing failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  const body = (await jsonOf(res)) as { deviceId?: unknown; token?: unknown } | null;
  if (!res.ok || typeof body?.deviceId !== 'string' || typeof body.token !== 'string') {
    return { problem: res.status === 401 || res.status === 403 ? 'this QR code was already used or has expired: scan the current one on the desktop' : `pairing failed: ${errorOf(body, res)}` };
  }
  return { deviceId: body.deviceId, token: body.token, origin: location.origin };
}

/** `#pair=<token>` of the page's URL, removed from the address bar at once (it is single-use). */
function takePairingToken(): string | null {
  const m = /(?:^#|&)pair=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  return decodeURIComponent(m[1]!);
}

/** `?phone` in the URL: the phone layout even on a desktop browser (role desktop can produce too). */
export function phoneRequested(): boolean {
  return typeof location !== 'undefined' && new URLSearchParams(location.search).has('phone');
}

/**
 * Who this page is. Order: a pairing token in the fragment (pair now); the desktop (whoami without a
 * token answers only to a loopback page) unless `?phone` asks for the phone layout; a stored device
 * token; on `?phone`, the desktop token as a last resort (one machine playing phone).
 */
export async function detect(): Promise<Detection> {
  const pairing = takePairingToken();
  let problem: string | null = null;
  if (pairing) {
    const r = await pair(pairing);
    if ('problem' in r) problem = r.problem;
    else storeDevice(r);
  }
  const phone = phoneRequested() || pairing !== null;
  if (!phone) {
    const me = await whoami(null);
    if (me.ok && me.role === 'desktop' && me.token) return { kind: 'remote', identity: { role: 'desktop', deviceId: me.deviceId, token: me.token } };
    if (!me.ok && !me.exray) return { kind: 'none' };
  }
  const stored = storedDevice();
  if (stored) {
    const me = await whoami(stored.token);
    if (me.ok) return { kind: 'remote', identity: { role: me.role, deviceId: me.deviceId, token: stored.token } };
    if (me.status === 401) {
      // Revoked: say so, even where the desktop token would also work (`?phone` on the desktop).
      forgetDevice();
      return { kind: 'unpaired', problem: 'this phone was unpaired: scan the QR code again' };
    } else if (!me.exray) return phone ? { kind: 'unpaired', problem: problem ?? 'exray serve is not reachable' } : { kind: 'none' };
  }
  if (phone) {
    const me = await whoami(null);
    if (me.ok && me.token) return { kind: 'remote', identity: { role: me.role, deviceId: me.deviceId, token: me.token } };
    if (!me.ok && !me.exray) return problem ? { kind: 'unpaired', problem } : { kind: 'none' };
  }
  return { kind: 'unpaired', problem: problem ?? 'this phone is not paired: scan the QR code shown by exray serve on the desktop' };
}

// ---- API -----------------------------------------------------------------------------------------

let token: string | null = null;

export function setApiToken(t: string | null): void {
  token = t;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** fetch with the Bearer token; throws ApiError with the server's `{error}` on a non-2xx answer. */
export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (init.body !== undefined && typeof init.body === 'string') headers.set('Content-Type', 'application/json');
  const res = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (!res.ok) throw new ApiError(`${init.method ?? 'GET'} ${path}: ${errorOf(await jsonOf(res), res)}`, res.status);
  return res;
}

export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await api(path, init);
  const body = await jsonOf(res);
  if (body === null) throw new ApiError(`${path}: the answer is not JSON`, res.status);
  return body as T;
}

export async function apiBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await api(path)).arrayBuffer());
}
