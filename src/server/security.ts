/**
 * Who may talk to `exray serve`, and how that is checked.
 *
 * - Listeners are trusted or not by where they listen, not by who connects: the loopback listener is
 *   the desktop's (a page loaded from it may ask for the desktop token), the LAN listener is the
 *   phones' (every request and socket there carries a token). A peer's address is never trusted.
 * - Host header allow-list (loopback names and the served LAN addresses): a DNS-rebinding page whose
 *   name resolves to 127.0.0.1 still sends its own name, and is refused.
 * - Origin: a request that carries one must come from a served origin (cross-site pages are refused);
 *   sockets carry a token whatever their Origin (Vite's CVE-2026-39363: clients without Origin were
 *   exempt, and that was the hole).
 * - Tokens: 128-bit random hex. The pairing token (in the QR code's URL fragment, never logged) is
 *   single-use: it is exchanged for a device token and then replaced. Device tokens are stored as
 *   sha256 digests in `<data>/devices.json` (a stolen data dir does not yield tokens) and compared in
 *   constant time (crypto.timingSafeEqual over digests).
 * - The agent token (`<data>/agent.json`, mode 0600) is the one a user pastes into their own app
 *   (`agent.js#t=…`): it must survive restarts, so it is kept as it is, and it is the only token
 *   accepted from another site's page (the app's origin is not ours). It may stream sessions and
 *   read / upload models, like a phone; `exray serve --new-agent-token` replaces it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { DeviceInfo } from '../transport/wire.ts';
import { writeFileAtomic } from './atomic.ts';

export function newToken(): string {
  return randomBytes(16).toString('hex');
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Constant-time equality of two secrets (digests compared, so lengths never leak). */
export function secretEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** `host[:port]` → lowercased host without port or brackets; null when malformed. */
export function hostOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const h = hostHeader.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return null;
  return m[1]!.replace(/^\[|\]$/g, '');
}

export class HostPolicy {
  private readonly allowed = new Set<string>(['localhost', '127.0.0.1', '::1']);

  constructor(lanHosts: readonly string[]) {
    for (const h of lanHosts) this.allowed.add(h.toLowerCase().replace(/^\[|\]$/g, ''));
  }

  allowsHost(hostHeader: string | undefined): boolean {
    const h = hostOf(hostHeader);
    if (h === null) return false;
    return this.allowed.has(h) || h.endsWith('.localhost');
  }

  /** The port every listener serves on (set once it is bound): an origin on another port is another site. */
  port: number | null = null;

  /**
   * An Origin header is acceptable when absent or when it is one of ours: a served host on the served
   * port. `http://localhost:5173` (the user's app in a dev server) is another site, like any other.
   */
  allowsOrigin(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
    if (this.port !== null && port !== this.port) return false;
    return this.allowsHost(u.host);
  }
}

/** The bearer token of a request (`Authorization: Bearer <hex>`), or null. */
export function bearerOf(authorization: string | undefined): string | null {
  const m = /^Bearer ([0-9a-f]{32})$/i.exec(authorization?.trim() ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** The token a socket offers as a subprotocol (`exray-token.<hex>`), or null. */
export function subprotocolToken(protocols: Iterable<string>, prefix: string): string | null {
  for (const p of protocols) {
    if (p.startsWith(prefix)) {
      const t = p.slice(prefix.length);
      if (/^[0-9a-f]{32}$/.test(t)) return t;
    }
  }
  return null;
}

const devicesFileSchema = z.strictObject({
  devices: z.array(
    z.strictObject({
      id: z.string().regex(/^d-[0-9a-f]{12}$/),
      name: z.string().max(100),
      userAgent: z.string().max(1000),
      pairedAt: z.string().max(40),
      lastSeen: z.string().max(40).nullable(),
      tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
type StoredDevice = z.infer<typeof devicesFileSchema>['devices'][number];

export type Principal = { role: 'desktop'; deviceId: 'desktop' } | { role: 'device'; deviceId: string };

/** The device id of the agent token's sessions. */
export const AGENT_DEVICE_ID = 'agent';

const agentFileSchema = z.strictObject({ token: z.string().regex(/^[0-9a-f]{32}$/), createdAt: z.string().max(40) });

/**
 * Tokens and paired devices. The desktop token lives only in this process (a desktop page asks for it
 * through the loopback listener); device tokens survive a restart, so a phone mid-run resumes.
 */
export class Credentials {
  readonly desktopToken = newToken();
  private pairing = newToken();
  private devices: StoredDevice[] = [];
  private online = new Map<string, number>();
  private writing: Promise<void> = Promise.resolve();
  private agent = newToken();
  /** When the agent was last connected (this process only; null: not since the server started). */
  private agentLastSeen: string | null = null;

  private constructor(
    private readonly file: string,
    private readonly agentFile: string,
  ) {}

  static async open(dataDir: string, opts: { newAgentToken?: boolean } = {}): Promise<Credentials> {
    const c = new Credentials(join(dataDir, 'devices.json'), join(dataDir, 'agent.json'));
    await c.loadAgentToken(opts.newAgentToken ?? false);
    let text: string | null = null;
    try {
      text = await readFile(c.file, 'utf8');
    } catch {
      text = null;
    }
    if (text !== null) {
      try {
        c.devices = devicesFileSchema.parse(JSON.parse(text)).devices;
      } catch (e) {
        // A damaged file pairs nobody (phones pair again); it is replaced on the next pairing.
        process.stderr.write(`exray serve: ${c.file}: ignored (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); phones must pair again\n`);
      }
    }
    return c;
  }

  get pairingToken(): string {
    return this.pairing;
  }

  /** The token of `agent.js#t=…` (stable across restarts). */
  get agentToken(): string {
    return this.agent;
  }

  private async loadAgentToken(renew: boolean): Promise<void> {
    if (!renew) {
      try {
        this.agent = agentFileSchema.parse(JSON.parse(await readFile(this.agentFile, 'utf8'))).token;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          process.stderr.write(`exray serve: ${this.agentFile}: ignored (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); a new agent token is made\n`);
        }
      }
    }
    this.agent = newToken();
    await writeFileAtomic(this.agentFile, `${JSON.stringify({ token: this.agent, createdAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
  }

  /** Is this the agent token? (Only it is accepted from another site's page.) */
  isAgent(who: Principal | null): boolean {
    return who?.role === 'device' && who.deviceId === AGENT_DEVICE_ID;
  }

  /** Exchange the single-use pairing token for a device token; null when the token is not the current one. */
  async pair(pairingToken: string, name: string, userAgent: string): Promise<{ deviceId: string; token: string } | null> {
    if (!secretEquals(pairingToken, this.pairing)) return null;
    this.pairing = newToken();
    const token = newToken();
    const id = `d-${randomBytes(6).toString('hex')}`;
    this.devices.push({ id, name: name.slice(0, 100) || 'phone', userAgent: userAgent.slice(0, 1000), pairedAt: new Date().toISOString(), lastSeen: null, tokenSha256: digest(token).toString('hex') });
    await this.save();
    return { deviceId: id, token };
  }

  /** Who holds this token: the desktop, a paired device, or nobody. Constant time per stored digest. */
  principal(token: string | null): Principal | null {
    if (token === null) return null;
    if (secretEquals(token, this.desktopToken)) return { role: 'desktop', deviceId: 'desktop' };
    if (secretEquals(token, this.agent)) return { role: 'device', deviceId: AGENT_DEVICE_ID };
    const d = digest(token);
    let found: StoredDevice | null = null;
    for (const dev of this.devices) if (timingSafeEqual(d, Buffer.from(dev.tokenSha256, 'hex'))) found = dev;
    return found ? { role: 'device', deviceId: found.id } : null;
  }

  async revoke(id: string): Promise<boolean> {
    const before = this.devices.length;
    this.devices = this.devices.filter((d) => d.id !== id);
    if (this.devices.length === before) return false;
    await this.save();
    return true;
  }

  seen(id: string, delta: 1 | -1): void {
    const n = (this.online.get(id) ?? 0) + delta;
    if (n > 0) this.online.set(id, n);
    else this.online.delete(id);
    const dev = this.devices.find((d) => d.id === id);
    if (dev) dev.lastSeen = new Date().toISOString();
    if (id === AGENT_DEVICE_ID) this.agentLastSeen = new Date().toISOString();
  }

  deviceName(id: string): string {
    if (id === AGENT_DEVICE_ID) return 'app (agent)';
    return this.devices.find((d) => d.id === id)?.name ?? id;
  }

  /** Paired devices, then the agent once it has connected since the server started. */
  list(): DeviceInfo[] {
    const rows = this.devices.map((d) => ({ id: d.id, name: d.name, userAgent: d.userAgent, pairedAt: d.pairedAt, lastSeen: d.lastSeen, online: this.online.has(d.id) }));
    if (this.agentLastSeen !== null) rows.push({ id: AGENT_DEVICE_ID, name: this.deviceName(AGENT_DEVICE_ID), userAgent: '', pairedAt: '', lastSeen: this.agentLastSeen, online: this.online.has(AGENT_DEVICE_ID) });
    return rows;
  }

  private save(): Promise<void> {
    const body = `${JSON.stringify({ devices: this.devices }, null, 2)}\n`;
    this.writing = this.writing.then(() => writeFileAtomic(this.file, body));
    return this.writing;
  }
}
