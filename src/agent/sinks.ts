/**
 * Where the agent's traces go.
 *
 * - `ServerSink`: the `exray serve` socket (the phone's SocketProducer, wire.ts), one session per
 *   captured inference with the raw image as its photo; the model is uploaded once
 *   (`PUT /api/models/<sha256>`) when the server does not have it. While the link is not open a
 *   capture is dropped (counted), never queued without bound: the app must not pay for a dead server.
 * - `FolderSink` (Node): each trace written as `<folder>/<model>-<time>-<id8>.exray`, atomically
 *   (temporary file, fsync, rename). Node's fs comes from `process.getBuiltinModule`, so this file
 *   imports nothing a browser bundle would choke on.
 */
import { encodeTrace } from '../trace/file-writer.ts';
import { traceToEvents } from '../trace/events.ts';
import type { Trace } from '../trace/types.ts';
import { SocketProducer, type LinkStatus } from '../transport/socket.ts';
import { WIRE_PATH, type RunMeta } from '../transport/wire.ts';
import type { WebSocketCtor } from '../transport/reconnect.ts';
import { zipModelFiles, type ModelFiles } from './model-files.ts';

export interface RawImage {
  bytes: Uint8Array;
  fileName: string;
  mimeType: string;
  /** How it was obtained (the file the app decoded, or a PNG of the pixels it drew). */
  how: string;
}

export type ShipResult = { status: 'sent'; where: string } | { status: 'written'; where: string } | { status: 'dropped'; reason: string } | { status: 'failed'; reason: string };

export interface AgentSink {
  /** Can a capture be taken now? (false: it would only be dropped) */
  ready(): boolean;
  ship(trace: Trace, model: ModelFiles | null, image: RawImage | null, device: string): Promise<ShipResult>;
  close(): void;
  /** What to say when a capture is dropped because the sink is not ready. */
  readonly notReadyReason: string;
  /** The server link (null for a folder). */
  readonly link: LinkStatus | null;
}

// ---------------------------------------------------------------------------------------------

export interface ServerSinkOptions {
  server: string;
  token: string;
  WebSocket: WebSocketCtor | null;
  /** Resend buffer bound, bytes (default 32 MiB: the agent lives in someone else's app). */
  maxBufferedBytes?: number;
  onStatus?: (s: LinkStatus) => void;
  /** The desktop pressed "capture the next inference". */
  onCapture?: () => void;
  fetch?: typeof fetch;
}

export class ServerSink implements AgentSink {
  private readonly producer: SocketProducer;
  private readonly base: URL;
  private readonly uploaded = new Map<string, Promise<{ problem: string | null; name: string | null }>>();
  private lastStatus: LinkStatus | null = null;

  constructor(private readonly o: ServerSinkOptions) {
    this.base = new URL(o.server);
    const ws = new URL(WIRE_PATH, this.base);
    ws.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    this.producer = new SocketProducer({
      url: ws.href,
      token: o.token,
      ...(o.WebSocket ? { WebSocket: o.WebSocket } : {}),
      maxBufferedBytes: o.maxBufferedBytes ?? 32 * 2 ** 20,
      onStatus: (s) => {
        this.lastStatus = s;
        o.onStatus?.(s);
      },
      ...(o.onCapture ? { onCapture: o.onCapture } : {}),
    });
  }

  get link(): LinkStatus {
    return this.producer.status;
  }

  get notReadyReason(): string {
    const s = this.lastStatus;
    return `the exray server at ${this.base.origin} is not connected${s?.reason ? ` (${s.reason})` : ''}`;
  }

  /**
   * Open, or still connecting for the first time (an app's first inference often comes right after
   * the agent attached: it is kept, and `ship` waits a few seconds for the link). After a failure
   * (server gone, refused), captures are dropped until the link is back.
   */
  ready(): boolean {
    const s = this.producer.status;
    if (this.producer.congested) return false;
    return s.state === 'open' || (s.state === 'connecting' && s.reason === null && !s.final);
  }

  /** Resolves true once the link is open, false after `ms` or a failure (bounded polling). */
  private async whenOpen(ms: number): Promise<boolean> {
    const t0 = Date.now();
    for (;;) {
      const s = this.producer.status;
      if (s.state === 'open') return true;
      if (s.final || s.reason !== null || Date.now() - t0 > ms) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The model on the server: already there (with the server's name for it), or uploaded now; else why not. */
  private ensureModel(m: ModelFiles): Promise<{ problem: string | null; name: string | null }> {
    let p = this.uploaded.get(m.sha256);
    if (!p) {
      p = this.upload(m);
      this.uploaded.set(m.sha256, p);
    }
    return p;
  }

  private async upload(m: ModelFiles): Promise<{ problem: string | null; name: string | null }> {
    const f = this.o.fetch ?? globalThis.fetch.bind(globalThis);
    const url = new URL(`/api/models/${m.sha256}`, this.base);
    const headers = { authorization: `Bearer ${this.o.token}` };
    const nameIn = async (r: Response): Promise<string | null> => {
      const body = (await r.json().catch(() => null)) as { name?: unknown; model?: { name?: unknown } } | null;
      const n = body?.model?.name ?? body?.name;
      return typeof n === 'string' && n ? n.slice(0, 200) : null;
    };
    try {
      const head = await f(url.href, { headers });
      if (head.ok) return { problem: null, name: await nameIn(head) };
      if (m.files.length === 0) return { problem: `the server does not have model ${m.sha256.slice(0, 12)} and it is too big to upload from the app`, name: null };
      if (head.status !== 404) return { problem: `the server answered HTTP ${head.status} for model ${m.sha256.slice(0, 12)}`, name: null };
      url.searchParams.set('name', m.name);
      const put = await f(url.href, { method: 'PUT', headers: { ...headers, 'content-type': 'application/zip' }, body: zipModelFiles(m) as Uint8Array<ArrayBuffer> });
      if (put.ok) return { problem: null, name: await nameIn(put) };
      const body = (await put.json().catch(() => null)) as { error?: string } | null;
      return { problem: `model upload refused (HTTP ${put.status}${body?.error ? `: ${body.error}` : ''})`, name: null };
    } catch (e) {
      this.uploaded.delete(m.sha256);
      return { problem: `model upload failed (${e instanceof Error ? e.message : String(e)})`, name: null };
    }
  }

  async ship(trace: Trace, model: ModelFiles | null, image: RawImage | null, device: string): Promise<ShipResult> {
    if (!this.ready() || !(await this.whenOpen(5000))) return { status: 'dropped', reason: this.notReadyReason };
    if (!/^[0-9a-f]{64}$/.test(trace.header.model.sha256)) {
      return { status: 'failed', reason: 'the model could not be identified (an ONNX session created before the agent attached?): load the agent before the app creates its model' };
    }
    if (model) {
      const { problem, name } = await this.ensureModel(model);
      if (problem) trace.header.warnings.push(`the desktop may lack this model: ${problem}`);
      // The server's name for a model it knows (a bundled sample's card name) beats a URL's folder name.
      if (name) trace.header.model.name = name;
    }
    const h = trace.header;
    const meta: RunMeta = {
      model: { name: h.model.name.slice(0, 200) || 'model', sha256: h.model.sha256, format: h.model.format },
      label: (h.label ?? `agent ${h.runtime.backend}`).slice(0, 100),
      backend: h.runtime.backend.slice(0, 40),
      capture: h.capture,
      device: { userAgent: h.environment.userAgent.slice(0, 1000), name: device.slice(0, 100) },
      photo: image ? { fileName: image.fileName.slice(-255), mimeType: image.mimeType.slice(0, 100), bytes: image.bytes.byteLength } : undefined,
    };
    const opened = this.producer.begin(meta, image?.bytes);
    for (const event of traceToEvents(trace)) this.producer.send({ stream: 'agent', event });
    try {
      const session = await opened;
      const outcome = await this.producer.end();
      return outcome.status === 'done' ? { status: 'sent', where: `session ${session}` } : { status: 'failed', reason: outcome.reason ?? outcome.status };
    } catch (e) {
      return { status: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
  }

  close(): void {
    this.producer.close();
  }
}

// ---------------------------------------------------------------------------------------------

interface NodeFs {
  mkdirSync(p: string, o: { recursive: true }): void;
  openSync(p: string, flags: string): number;
  writeSync(fd: number, b: Uint8Array, off: number, len: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(a: string, b: string): void;
  rmSync(p: string, o: { force: true }): void;
}

function nodeFs(): NodeFs | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.('node:fs') as NodeFs | undefined) ?? null;
}

export class FolderSink implements AgentSink {
  private readonly fs: NodeFs;
  readonly notReadyReason = '';
  readonly link = null;

  constructor(private readonly folder: string) {
    const fs = nodeFs();
    if (!fs) throw new Error('exray agent: `out` (a folder for .exray files) works in Node only');
    fs.mkdirSync(folder, { recursive: true });
    this.fs = fs;
  }

  ready(): boolean {
    return true;
  }

  async ship(trace: Trace): Promise<ShipResult> {
    const h = trace.header;
    const stamp = h.createdAt.replace(/[:.]/g, '-');
    // Only safe characters of the model's name reach the file name; the rest is exray's own.
    const file = `${this.folder.replace(/[\\/]+$/, '')}/${h.model.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'model'}-${stamp}-${h.id.slice(0, 8)}.exray`;
    const tmp = `${file}.${h.id.slice(0, 8)}.tmp`;
    try {
      const bytes = encodeTrace(trace);
      const fd = this.fs.openSync(tmp, 'w');
      try {
        for (let o = 0; o < bytes.byteLength; ) o += this.fs.writeSync(fd, bytes, o, bytes.byteLength - o);
        this.fs.fsyncSync(fd);
      } finally {
        this.fs.closeSync(fd);
      }
      this.fs.renameSync(tmp, file);
      return { status: 'written', where: file };
    } catch (e) {
      this.fs.rmSync(tmp, { force: true });
      return { status: 'failed', reason: `${file}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  close(): void {}
}
