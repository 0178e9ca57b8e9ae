/**
 * Test clients of `exray serve` speaking the wire protocol with `ws` over loopback only: a producer
 * that replays a recorded trace (the phone's side) and a viewer (the desktop's side).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { traceToEvents } from '../src/trace/events.ts';
import type { Trace } from '../src/trace/types.ts';
import { attachmentFrames, blobFrames, TOKEN_SUBPROTOCOL_PREFIX, WIRE_PATH, WIRE_SUBPROTOCOL, type LinkPrecision, type RunMeta, type ServerMessage } from '../src/transport/wire.ts';

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'exray-serve-'));
}

/** One session item as sent: its seq and the frame (JSON text or binary). */
export interface Item {
  seq: number;
  data: string | Uint8Array;
}

/**
 * The items a producer sends for `trace` (photo first when given), seq 1, 2, … With `precision`, node
 * and output blobs go narrowed, as SessionQueue sends them for a run opened with that precision.
 */
export function sessionItems(trace: Trace, photo?: Uint8Array, precision?: LinkPrecision): Item[] {
  const inputs = new Set(trace.header.input.tensors.map((t) => t.blob?.id));
  const items: Item[] = [];
  let seq = 0;
  const next = (): number => ++seq;
  if (photo) for (const f of attachmentFrames('photo', photo, next)) items.push({ seq, data: f });
  for (const event of traceToEvents(trace)) {
    if (event.type === 'blob') {
      const seqs: number[] = [];
      const frames = blobFrames(
        event.id,
        event.data,
        () => {
          seqs.push(next());
          return seq;
        },
        {},
        inputs.has(event.id) ? undefined : precision,
      );
      frames.forEach((f, k) => items.push({ seq: seqs[k]!, data: f }));
    } else {
      const s = next();
      const declared = precision && event.type === 'run-start' ? { ...event, storagePrecision: precision } : event;
      items.push({ seq: s, data: JSON.stringify({ t: 'ev', seq: s, event: declared }) });
    }
  }
  return items;
}

export function runMeta(trace: Trace, photo?: { fileName: string; bytes: number }): RunMeta {
  const m = trace.header.model;
  return {
    model: { name: m.name, sha256: m.sha256, format: m.format },
    label: trace.header.label ?? trace.header.runtime.backend,
    backend: trace.header.runtime.backend,
    capture: trace.header.capture,
    device: { userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36' },
    ...(photo ? { photo: { fileName: photo.fileName, mimeType: 'image/png', bytes: photo.bytes } } : {}),
  };
}

/** A connected client: every server message is queued; `next(pred)` waits for one. */
export class Client {
  readonly messages: ServerMessage[] = [];
  readonly binary: Uint8Array[] = [];
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.binary.push(new Uint8Array(data));
        return;
      }
      const m = JSON.parse(data.toString('utf8')) as ServerMessage;
      this.messages.push(m);
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  static connect(port: number, token: string | null, opts: { host?: string; headers?: Record<string, string> } = {}): Promise<Client> {
    const protocols = token ? [WIRE_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`] : [WIRE_SUBPROTOCOL];
    const ws = new WebSocket(`ws://${opts.host ?? '127.0.0.1'}:${port}${WIRE_PATH}`, protocols, { headers: opts.headers ?? {}, perMessageDeflate: false });
    const c = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(data: string | Uint8Array | object): void {
    this.ws.send(typeof data === 'string' || data instanceof Uint8Array ? data : JSON.stringify(data));
  }

  /** The first queued or future message matching `pred` (bounded wait). */
  next<T extends ServerMessage['t']>(t: T, pred: (m: Extract<ServerMessage, { t: T }>) => boolean = () => true, timeoutMs = 30_000): Promise<Extract<ServerMessage, { t: T }>> {
    const match = (m: ServerMessage): boolean => m.t === t && pred(m as Extract<ServerMessage, { t: T }>);
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found as Extract<ServerMessage, { t: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${t}' message within ${timeoutMs} ms; got ${this.messages.map((m) => m.t).join(',')}`)), timeoutMs);
      this.waiters.push({
        pred: match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<ServerMessage, { t: T }>);
        },
      });
    });
  }

  whenClosed(timeoutMs = 30_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket not closed in time')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  async open(run: RunMeta): Promise<string> {
    this.send({ t: 'open', run });
    return (await this.next('opened')).session;
  }

  /** Send items, then wait until the server acked the last one. */
  async stream(session: string, items: readonly Item[], timeoutMs = 30_000): Promise<void> {
    for (const it of items) this.send(it.data);
    const last = items[items.length - 1];
    if (last) await this.next('ack', (a) => a.session === session && a.seq >= last.seq, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }

  kill(): void {
    this.ws.terminate();
  }
}

/** HTTP on loopback with an optional bearer token and Host/Origin headers. */
export async function api(port: number, path: string, init: { method?: string; token?: string; body?: unknown; host?: string; origin?: string; address?: string } = {}): Promise<{ status: number; json: unknown; bytes: Uint8Array; headers: Record<string, string | string[] | undefined> }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> = {};
    if (init.token) headers['authorization'] = `Bearer ${init.token}`;
    if (init.host) headers['host'] = init.host;
    if (init.origin) headers['origin'] = init.origin;
    if (body) headers['content-type'] = 'application/json';
    // agent: false: a fresh connection per call. A pooled keep-alive socket can be reused just as the
    // server's keepAliveTimeout (5 s) closes it, and Node's client then fails with ECONNRESET.
    const req = request({ host: init.address ?? '127.0.0.1', port, path, method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json: unknown = null;
        try {
          json = JSON.parse(buf.toString('utf8'));
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json, bytes: new Uint8Array(buf), headers: res.headers });
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

export interface ChildServer {
  port: number;
  desktopToken: string;
  pairingToken: string;
  pid: number;
  /** Peak resident memory of the server process so far (VmHWM), bytes. */
  peakRss(): Promise<number>;
  stop(): Promise<void>;
}

/** `exray serve`'s server in a child process (test/serve-child.ts), on loopback. */
/** Pair a new device through the desktop API (loopback): its token. */
export async function pairedToken(port: number): Promise<string> {
  const p = (await api(port, '/api/pairing')).json as { url: string };
  const pairing = /#pair=([0-9a-f]{32})/.exec(p.url)![1]!;
  return ((await api(port, '/api/pair', { method: 'POST', token: pairing, body: { name: 'load' } })).json as { token: string }).token;
}

export async function startChildServer(dataDir: string, withReference = false): Promise<ChildServer> {
  const { spawn } = await import('node:child_process');
  const { readFile } = await import('node:fs/promises');
  const child = spawn(process.execPath, [...(process.env.EXRAY_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', 'test/serve-child.ts', dataDir, withReference ? 'reference' : ''], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server child did not start in 60 s')), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  const info = JSON.parse(line) as Omit<ChildServer, 'peakRss' | 'stop'>;
  return {
    ...info,
    peakRss: async () => {
      const status = await readFile(`/proc/${info.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : NaN;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin.end();
      }),
  };
}
