/**
 * `exray serve` as a library: one Node process serving the built page, the JSON API and the
 * WebSocket endpoint (node:http/https + ws), on a loopback listener (the desktop's) and optionally LAN
 * listeners (the phones'). Who may do what: security.ts. What the sockets carry: hub.ts, wire.ts.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import QRCode from 'qrcode';
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, SESSION_ID_PATTERN, SHA256_PATTERN, TOKEN_SUBPROTOCOL_PREFIX, WIRE_PATH, WIRE_SUBPROTOCOL } from '../transport/wire.ts';
import { bytes, decoded, header, json, readBody, readJson, refuseBody, sendFile } from './http-io.ts';
import { DEFAULT_HUB_OPTIONS, Hub, type HubOptions } from './hub.ts';
import { listingOf, maxUploadBytes, modelFilePath, ModelStore, ModelUploadError, type ModelStoreLimits } from './model-store.ts';
import { fmtMiB } from './model-zip.ts';
import type { IndexedModel, ModelIndex } from './models.ts';
import { ReferenceService, type ModelLocator, type ReferenceBackend } from './reference.ts';
import { bearerOf, Credentials, HostPolicy, subprotocolToken, type Principal } from './security.ts';
import { StaticFiles } from './static.ts';
import { SessionStore, type StoreLimits } from './store.ts';

export interface ServeOptions {
  dataDir: string;
  /** The built page (vite build output); null serves the API and sockets only (tests). */
  staticDir: string | null;
  port: number;
  /** Loopback addresses to listen on (default 127.0.0.1; ::1 too when it can be bound). */
  loopback?: string[];
  /** LAN addresses to listen on: untrusted listeners, every request needs a token. */
  lanHosts?: string[];
  tls?: { cert: string | Buffer; key: string | Buffer } | null;
  /** Finds a reference model by sha256 (null: no reference runs); models uploaded to the store are found too. */
  locate?: ModelLocator | null;
  /** The bundled samples (models/): listed by `GET /api/models` and served by sha256. */
  samples?: ModelIndex | null;
  modelLimits?: Partial<ModelStoreLimits>;
  referenceBackend?: ReferenceBackend;
  limits?: Partial<StoreLimits>;
  hub?: Partial<HubOptions>;
  /** Replace the stored agent token (the one pasted into apps) with a new one. */
  newAgentToken?: boolean;
}

export interface RunningServer {
  port: number;
  /** http(s)://127.0.0.1:PORT/ */
  desktopUrl: string;
  lanUrls: string[];
  /** The phone URL: first LAN URL (or the loopback one) with `?phone#pair=<token>`. */
  pairingUrl(): string;
  /** The agent's script URLs (`…/agent.js#t=<agent token>`): the first LAN one (phones), then loopback. */
  agentScriptUrls(): string[];
  credentials: Credentials;
  hub: Hub;
  store: SessionStore;
  /** Models uploaded by the desktop or a phone (`<data>/models/<sha256>/`). */
  models: ModelStore;
  /** The reference's locator: the `locate` option, then the uploaded models (null without `locate`). */
  locateModel: ModelLocator | null;
  reference: ReferenceService | null;
  close(): Promise<void>;
}

/** Model uploads being read or extracted at once (each holds its zip in memory). */
const MAX_UPLOADS = 2;

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const store = await SessionStore.open(opts.dataDir, opts.limits);
  const credentials = await Credentials.open(opts.dataDir, { newAgentToken: opts.newAgentToken ?? false });
  const files = opts.staticDir ? await StaticFiles.scan(opts.staticDir) : null;
  const lanHosts = opts.lanHosts ?? [];
  const hosts = new HostPolicy(lanHosts);
  const scheme = opts.tls ? 'https' : 'http';
  let port = opts.port;
  const urlFor = (host: string): string => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  const pairing = (): { url: string; lanUrls: string[] } => {
    const lanUrls = lanHosts.map(urlFor);
    return { url: `${lanUrls[0] ?? urlFor('127.0.0.1')}?phone#pair=${credentials.pairingToken}`, lanUrls };
  };
  const agentScriptUrls = (): string[] => [...lanHosts.map(urlFor), urlFor('127.0.0.1')].map((u) => `${u}agent.js#t=${credentials.agentToken}`);
  const hub = new Hub(store, credentials, { ...DEFAULT_HUB_OPTIONS, ...opts.hub }, pairing);
  const models = await ModelStore.open(opts.dataDir, opts.modelLimits);
  const samples = opts.samples ?? null;
  const given = opts.locate ?? null;
  const locateModel: ModelLocator | null = given ? (sha256, name) => given(sha256, name) ?? models.locate(sha256) : null;
  const reference = locateModel ? new ReferenceService({ locate: locateModel, backend: opts.referenceBackend ?? 'cpu', listener: hub.referenceListener }) : null;
  let uploads = 0;
  hub.reference = reference;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(WIRE_SUBPROTOCOL) ? WIRE_SUBPROTOCOL : false),
  });

  const trustedSockets = new WeakSet<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: e instanceof Error ? e.message : String(e) });
      else res.destroy();
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    setIsolation(res);
    if (!hosts.allowsHost(req.headers.host)) return json(res, 421, { error: 'this Host is not served here (DNS rebinding protection): use the URL exray serve printed' });
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (!path.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
      if (path === AGENT_SCRIPT) {
        // The app that loads the agent is another site: the script is public (the token is not in it).
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      }
      if (files?.serve(path, res, req.method === 'HEAD')) return;
      return json(res, 404, { error: files ? 'not found' : 'the page is not built (exray serve builds it unless --no-build)' });
    }
    const origin = header(req, 'origin');
    const foreign = !hosts.allowsOrigin(origin);
    const agentRoute = path.startsWith('/api/models/');
    if (foreign && agentRoute && req.method === 'OPTIONS') return corsPreflight(res, origin);
    const trusted = trustedSockets.has(req.socket);
    const bearer = bearerOf(header(req, 'authorization'));
    if (foreign) {
      // Another site's page: only the agent token, only the model routes (its app's model upload).
      if (!agentRoute || !credentials.isAgent(credentials.principal(bearer))) return json(res, 403, { error: 'cross-origin request refused' });
      res.setHeader('Access-Control-Allow-Origin', origin ?? '*');
      res.setHeader('Vary', 'Origin');
    }
    if (path === '/api/pair' && req.method === 'POST') {
      if (!bearer) return json(res, 401, { error: 'pairing needs the token from the QR code' });
      const body = await readJson(req);
      const name = typeof body?.['name'] === 'string' ? body['name'] : 'phone';
      const ua = typeof body?.['userAgent'] === 'string' ? body['userAgent'] : (header(req, 'user-agent') ?? '');
      const paired = await credentials.pair(bearer, name, ua);
      if (!paired) return json(res, 401, { error: 'this pairing code was used or is out of date: scan the QR code on the desktop again' });
      hub.broadcastDevices();
      hub.broadcastPairing();
      return json(res, 200, paired);
    }
    let who: Principal | null = bearer ? credentials.principal(bearer) : null;
    if (bearer && !who) return json(res, 401, { error: 'unknown or revoked token' });
    if (!who && trusted) who = { role: 'desktop', deviceId: 'desktop' };
    if (!who) return json(res, 401, { error: 'a token is required (scan the QR code exray serve printed)' });
    if (path === '/api/whoami') return json(res, 200, { role: who.role, deviceId: who.deviceId, token: who.role === 'desktop' && trusted ? credentials.desktopToken : null });
    if (path === '/api/models' || path.startsWith('/api/models/')) return modelsApi(req, res, path, url, who);
    if (who.role !== 'desktop') return json(res, 403, { error: 'only the desktop may do this' });
    return desktopApi(req, res, path);
  };

  const desktopApi = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? 'GET';
    if (path === '/api/pairing' && method === 'GET') {
      const p = pairing();
      return json(res, 200, { ...p, qrSvg: await QRCode.toString(p.url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }) });
    }
    if (path === '/api/devices' && method === 'GET') return json(res, 200, credentials.list());
    if (path === '/api/agent' && method === 'GET') {
      const urls = agentScriptUrls();
      return json(res, 200, { token: credentials.agentToken, scriptUrls: urls, line: agentLine(urls[0]!) });
    }
    let m = /^\/api\/devices\/([^/]+)$/.exec(path);
    if (m && method === 'DELETE') {
      if (!(await credentials.revoke(decodeURIComponent(m[1]!)))) return json(res, 404, { error: 'no such device' });
      hub.revoked(decodeURIComponent(m[1]!));
      res.statusCode = 204;
      return void res.end();
    }
    if (path === '/api/reference') {
      if (method === 'GET') return json(res, 200, { backend: reference?.backend ?? null });
      if (method === 'POST') {
        const b = (await readJson(req))?.['backend'];
        if (b !== 'cpu' && b !== 'wasm') return json(res, 400, { error: "backend must be 'cpu' or 'wasm'" });
        if (!reference) return json(res, 409, { error: 'this server runs no reference' });
        reference.backend = b;
        return json(res, 200, { backend: b });
      }
    }
    if (path === '/api/sessions' && method === 'GET') return json(res, 200, store.list());
    m = /^\/api\/sessions\/([^/]+)(?:\/(trace|reference|photo))?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      if (!SESSION_ID_PATTERN.test(id)) return json(res, 400, { error: `not a session id: ${JSON.stringify(id.slice(0, 40))}` });
      const info = store.get(id);
      if (!info) return json(res, 404, { error: `no session ${id}` });
      if (!m[2] && method === 'GET') return json(res, 200, info);
      if (!m[2] && method === 'DELETE') {
        if (hub.isActive(id)) return json(res, 409, { error: `session ${id} is still streaming` });
        await store.remove(id);
        hub.sessionRemoved(id);
        res.statusCode = 204;
        return void res.end();
      }
      if (method === 'GET' && m[2] === 'photo') {
        const p = await store.photo(id);
        if (!p) return json(res, 404, { error: 'no photo' });
        return bytes(res, p.bytes, p.mimeType || 'application/octet-stream', p.fileName);
      }
      if (method === 'GET' && m[2] === 'reference') {
        const ref = await store.encodedReference(id);
        if (!ref) return json(res, 404, { error: 'no reference trace' });
        return bytes(res, ref, 'application/octet-stream', `${id}-reference.exray`);
      }
      // The stored file as it is (an incomplete session's partial trace is encoded in the store's worker).
      if (method === 'GET' && m[2] === 'trace') return bytes(res, await store.encodedTrace(id), 'application/octet-stream', `${id}.exray`);
    }
    return json(res, 404, { error: 'no such API' });
  };

  // ---- models: the samples (read-only) and the uploaded ones; the desktop and paired phones -----
  const findModel = (sha256: string): IndexedModel | null => samples?.entries.get(sha256) ?? models.get(sha256);
  const listModels = (): unknown[] => {
    const sampleRows = [...(samples?.entries.values() ?? [])].map(listingOf);
    return [...sampleRows, ...models.list().filter((m) => !samples?.entries.has(m.sha256))];
  };

  const modelsApi = async (req: IncomingMessage, res: ServerResponse, path: string, url: URL, who: Principal): Promise<void> => {
    const method = req.method ?? 'GET';
    if (path === '/api/models') return method === 'GET' ? json(res, 200, listModels()) : json(res, 405, { error: 'method not allowed' });
    const m = /^\/api\/models\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    const sha256 = m ? decoded(m[1]!) : null;
    if (!m || sha256 === null) return json(res, 404, { error: 'no such API' });
    if (!SHA256_PATTERN.test(sha256)) return json(res, 400, { error: `not a sha256 (64 lower-case hex digits): ${JSON.stringify(sha256.slice(0, 80))}` });
    const found = findModel(sha256);
    if (m[2] !== undefined) {
      if (method !== 'GET' && method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
      const file = decoded(m[2]);
      const p = found && file !== null ? await modelFilePath(found, file) : null;
      if (!p) return json(res, 404, { error: found ? `model ${sha256} has no file ${JSON.stringify((file ?? m[2]).slice(0, 80))}` : `no model ${sha256} on this server` });
      return sendFile(res, p, method === 'HEAD');
    }
    if (method === 'GET' || method === 'HEAD') return found ? json(res, 200, listingOf(found)) : json(res, 404, { error: `no model ${sha256} on this server` });
    if (method === 'DELETE') {
      if (who.role !== 'desktop') return json(res, 403, { error: 'only the desktop may do this' });
      if (found?.origin === 'sample') return json(res, 409, { error: `model ${sha256} is a bundled sample (models/${found.name}), not an upload` });
      if (!(await models.remove(sha256))) return json(res, 404, { error: `no model ${sha256} on this server` });
      res.statusCode = 204;
      return void res.end();
    }
    if (method !== 'PUT') return json(res, 405, { error: 'method not allowed' });
    const limit = maxUploadBytes(models.limits);
    const lengthHeader = header(req, 'content-length');
    const length = Number(lengthHeader);
    if (lengthHeader === undefined) return refuseBody(res, 411, 'send the model zip with a Content-Length');
    if (!/^\d+$/.test(lengthHeader) || !Number.isSafeInteger(length)) return refuseBody(res, 400, `bad Content-Length ${JSON.stringify(lengthHeader.slice(0, 40))}`);
    if (length > limit) return refuseBody(res, 413, `the upload is ${fmtMiB(length)}, over the limit of ${fmtMiB(limit)} per model zip`);
    if (found) {
      for await (const chunk of req) void chunk; // read and dropped: nothing is rewritten
      return json(res, 200, { status: 'already stored', model: listingOf(found) });
    }
    if (uploads >= MAX_UPLOADS) {
      res.setHeader('Retry-After', '5');
      return refuseBody(res, 503, `${uploads} model uploads are in progress: try again in a moment`);
    }
    uploads++;
    try {
      const zip = await readBody(req, length);
      if (!zip) return json(res, 400, { error: `the body ended before the ${length} bytes its Content-Length announced` });
      return json(res, 200, await models.put(sha256, zip, { name: url.searchParams.get('name'), by: who.deviceId }));
    } catch (e) {
      if (e instanceof ModelUploadError) return json(res, e.status, { error: e.message });
      throw e;
    } finally {
      uploads--;
    }
  };

  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== WIRE_PATH) return refuse(404, 'Not Found');
    if (!hosts.allowsHost(req.headers.host)) return refuse(421, 'Misdirected Request');
    const offered = (header(req, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    const who = credentials.principal(subprotocolToken(offered, TOKEN_SUBPROTOCOL_PREFIX));
    // Another site's page may open a socket with the agent token only (the user's app).
    if (!hosts.allowsOrigin(header(req, 'origin')) && !credentials.isAgent(who)) return refuse(403, 'Forbidden');
    if (!who) return refuse(401, 'Unauthorized');
    if (!offered.includes(WIRE_SUBPROTOCOL)) return refuse(400, `Bad Request: subprotocol ${WIRE_SUBPROTOCOL} required`);
    wss.handleUpgrade(req, socket, head, (ws) => hub.attach(ws, who));
  };

  const servers: Server[] = [];
  const listen = async (host: string, trusted: boolean): Promise<void> => {
    const server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(handler);
    server.on('upgrade', onUpgrade);
    server.on('connection', (s: Socket) => {
      if (trusted) trustedSockets.add(s);
    });
    // A TLS server hands the request the TLS socket, not the raw one: mark that too.
    server.on('secureConnection', (s: Socket) => {
      if (trusted) trustedSockets.add(s);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
    hosts.port = port;
    servers.push(server);
  };
  const loopback = opts.loopback ?? ['127.0.0.1'];
  try {
    await listen(loopback[0]!, true);
    for (const h of loopback.slice(1)) await listen(h, true).catch(() => {});
    for (const h of lanHosts) await listen(h, false);
  } catch (e) {
    for (const s of servers) s.close();
    await reference?.close();
    throw e;
  }

  return {
    port,
    desktopUrl: urlFor('127.0.0.1'),
    lanUrls: lanHosts.map(urlFor),
    pairingUrl: () => pairing().url,
    agentScriptUrls,
    credentials,
    hub,
    store,
    models,
    locateModel,
    reference,
    close: async () => {
      await hub.close();
      for (const c of wss.clients) c.terminate();
      await Promise.all(servers.map((s) => new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      })));
      await reference?.close();
    },
  };
}

/** Where exray serve serves the agent (built from src/agent/script.ts). */
export const AGENT_SCRIPT = '/agent.js';

/** The one line a user adds to their app. */
export function agentLine(scriptUrl: string): string {
  return `<script type="module" src="${scriptUrl}"></script>`;
}

/** CORS preflight of the agent's model requests from the app's page (the request itself needs the agent token). */
function corsPreflight(res: ServerResponse, origin: string | undefined): void {
  res.statusCode = 204;
  res.setHeader('Access-Control-Allow-Origin', origin ?? '*');
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, PUT');
  res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type');
  res.setHeader('Access-Control-Max-Age', '600');
  // Chrome's Private Network Access: a public site's page reaching a LAN address asks this first.
  res.setHeader('Access-Control-Allow-Private-Network', 'true');
  res.end();
}

function setIsolation(res: ServerResponse): void {
  // Cross-origin isolation (wasm threads) where the context is secure; harmless elsewhere.
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}
