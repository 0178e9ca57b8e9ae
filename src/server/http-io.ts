/** Small HTTP helpers of `exray serve` (serve.ts): JSON answers, bounded bodies, files streamed. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelUploadError } from './model-zip.ts';

const MAX_JSON_BODY = 16 * 1024;

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', String(Buffer.byteLength(text)));
  res.end(text);
}

export function bytes(res: ServerResponse, data: Uint8Array, type: string, fileName: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(data.byteLength));
  res.setHeader('Content-Disposition', `attachment; filename="${fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.end(data);
}

/** Refuse a request without reading its body: the connection closes after the answer. */
export function refuseBody(res: ServerResponse, status: number, error: string): void {
  res.setHeader('Connection', 'close');
  json(res, status, { error });
}

export function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/** A stored model file, streamed (immutable: its model is named by its hash). */
export async function sendFile(res: ServerResponse, path: string, headOnly: boolean): Promise<void> {
  const size = (await stat(path)).size;
  res.statusCode = 200;
  res.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
  res.setHeader('Content-Length', String(size));
  res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
  if (headOnly) return void res.end();
  await new Promise<void>((resolve) => {
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** Exactly `length` bytes of body into one buffer (null when it ends early). */
export async function readBody(req: IncomingMessage, length: number): Promise<Uint8Array | null> {
  const out = Buffer.allocUnsafe(length);
  let n = 0;
  for await (const c of req) {
    const chunk = c as Buffer;
    if (n + chunk.length > length) throw new ModelUploadError(400, `the body is longer than its Content-Length (${length})`);
    chunk.copy(out, n);
    n += chunk.length;
  }
  return n === length ? out : null;
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_JSON_BODY) return null;
    chunks.push(c as Buffer);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
