/**
 * The viewer's trace reader (src/viewer/worker/trace-reader.ts, started by client.ts
 * decodeTraceInWorker) in headless Chromium, where it inflates blobs with the browser's
 * DecompressionStream: a real MobileNetV2 capture reads back as Node's fflate reader reads it (header
 * and every blob's bytes), and a file with a damaged blob fails with Node's message.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRunnerPage } from '../src/cli/browser.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { crc32 } from '../src/trace/blob-codec.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import { MODELS, photoFeed } from './helpers.ts';

interface PageAnswer {
  ok: boolean;
  message?: string;
  header?: string;
  blobs?: [string, string, number, number][];
}

describe('the trace reader worker in Chromium', { timeout: 300_000 }, () => {
  it('reads a real capture as Node does, and names a damaged blob as Node does', async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    const real = await traceInNode({ model: join(MODELS, name), backend: 'wasm', feed: [await photoFeed(name, 'chelsea.png')], feedFile: 'chelsea.png', capture: 'tensors', runs: 1, warmup: 0 });
    const bytes = encodeTrace(real);
    // A damaged deflated blob: 16 bytes of its data flipped, in the middle of the file.
    const damaged = bytes.slice();
    const mid = damaged.length >> 1;
    for (let i = 0; i < 16; i++) damaged[mid + i]! ^= 0xa5;
    let nodeProblem = '';
    try {
      decodeTrace(damaged, 'damaged.exray');
    } catch (e) {
      nodeProblem = (e as Error).message;
    }
    expect(nodeProblem).toMatch(/^damaged\.exray: corrupt (zip|file): entry tensors\/.*\.bin /);
    const want = decodeTrace(bytes, 'edge.exray');

    const session = await openRunnerPage(join(MODELS, name));
    try {
      const { page } = session;
      await page.route('**/__exray-test/*.exray', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from(route.request().url().endsWith('damaged.exray') ? damaged : bytes) }));
      // A string: the page imports the modules from Vite, untouched by vitest.
      const answers = (await page.evaluate(`(async () => {
        const { decodeTraceInWorker } = await import('/src/viewer/worker/client.ts');
        const { crc32 } = await import('/src/trace/blob-codec.ts');
        const read = async (n) => {
          const file = new File([await (await fetch('/__exray-test/' + n)).arrayBuffer()], n);
          try {
            const t = await decodeTraceInWorker(file);
            const blobs = [...t.blobs].map(([id, b]) => [id, b.constructor.name, b.length, crc32(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))]);
            return { ok: true, header: JSON.stringify(t.header), blobs };
          } catch (e) {
            return { ok: false, message: e.message };
          }
        };
        return [await read('edge.exray'), await read('damaged.exray')];
      })()`)) as [PageAnswer, PageAnswer];
      const [good, bad] = answers;
      expect(good.ok).toBe(true);
      expect(good.header).toBe(JSON.stringify(want.header));
      const wantBlobs = [...want.blobs].map(([id, b]) => [id, b.constructor.name, b.length, crc32(new Uint8Array(b.buffer, b.byteOffset, b.byteLength))]);
      expect(good.blobs).toStrictEqual(wantBlobs);
      expect(wantBlobs.length).toBeGreaterThan(60);
      expect(bad).toStrictEqual({ ok: false, message: nodeProblem });
    } finally {
      await session.close();
    }
  });
});
