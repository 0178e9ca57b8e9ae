/**
 * The built page (vite build output) served from a fixed list of files made when the server starts:
 * a request path is looked up in that list, never joined to a directory, so no URL (`..`, `%2e%2e`,
 * NUL, absolute, Windows separators) reaches a file that is not part of the build.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  const m = /\.[a-z0-9]+$/i.exec(file);
  return (m && TYPES[m[0].toLowerCase()]) ?? 'application/octet-stream';
}

export class StaticFiles {
  private constructor(
    readonly root: string,
    private readonly files: Map<string, { abs: string; size: number }>,
  ) {}

  /** Every regular file under `root` (symlinks are not followed). */
  static async scan(root: string): Promise<StaticFiles> {
    const files = new Map<string, { abs: string; size: number }>();
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const abs = join(dir, e.name);
        if (e.isDirectory()) await walk(abs);
        else if (e.isFile()) files.set(`/${relative(root, abs).split(sep).join('/')}`, { abs, size: (await stat(abs)).size });
      }
    };
    await walk(root);
    return new StaticFiles(root, files);
  }

  get size(): number {
    return this.files.size;
  }

  has(urlPath: string): boolean {
    return this.files.has(urlPath === '/' ? '/index.html' : urlPath);
  }

  /** Serve `urlPath` (already stripped of query); false when it is not a file of the build. */
  serve(urlPath: string, res: ServerResponse, headOnly: boolean): boolean {
    const key = urlPath === '/' ? '/index.html' : urlPath;
    const f = this.files.get(key);
    if (!f) return false;
    res.statusCode = 200;
    res.setHeader('Content-Type', contentTypeOf(key));
    res.setHeader('Content-Length', String(f.size));
    // Hashed assets never change; the rest (index.html, models index) is revalidated.
    res.setHeader('Cache-Control', key.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (headOnly) {
      res.end();
      return true;
    }
    const stream = createReadStream(f.abs);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    return true;
  }
}
