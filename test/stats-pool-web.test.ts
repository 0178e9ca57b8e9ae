/**
 * The page's StatsPool (Web Workers, src/viewer/worker/stats-pool-web.ts) in a real headless Chromium
 * through the runner page: a TF.js capture of a bundled model on a photo with its statistics on the
 * pool's workers gives the trace the page's own thread gives (every record and statistic, every blob
 * byte), the pool really took the arrays (copied into memory it made ready); so does a stats ring
 * (src/trace/stats-ring.ts: statistics on a worker, through shared memory), and the viewer's way
 * (the trace worker, its statistics on a nested ring worker) gives that trace too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRunnerPage, runnerRequestFor, type RunnerSession } from '../src/cli/browser.ts';
import type { RunnerRequest, RunnerResult } from '../src/browser-runner/protocol.ts';
import { decodeTrace } from '../src/trace/file.ts';
import type { Trace } from '../src/trace/types.ts';
import { MODELS, photoFeed, SAMPLES } from './helpers.ts';
import { expectSameTrace } from './same-trace.ts';

type PageRun = (r: RunnerRequest) => Promise<{ trace: Trace; result: RunnerResult }>;

/** A runner page for `dir`'s model; `run` runs a request there and decodes the trace it uploads. */
async function withRunnerPage(dir: string, f: (run: PageRun, session: RunnerSession) => Promise<void>): Promise<void> {
  const session = await openRunnerPage(dir);
  try {
    await f(async (r) => {
      session.routes.take();
      const result = (await session.page.evaluate((q) => (globalThis as unknown as { exrayRun(x: unknown): Promise<unknown> }).exrayRun(q), r)) as RunnerResult;
      expect(result.error).toBeUndefined();
      const bytes = session.routes.take()!;
      return { trace: decodeTrace(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), r.statistics ?? r.where), result };
    }, session);
  } finally {
    await session.close();
  }
}

// One Chromium launch per model, a few single-inference traces each: ~40 s in all, twice that on a busy machine.
describe('statistics on Web Workers in Chromium', { timeout: 300_000 }, () => {
  it('MobileNetV2 graph model on wasm, tensors capture: the pool\'s trace is the page thread\'s, bit for bit', async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    const photo = join(SAMPLES, 'chelsea.png');
    const { dir, request } = await runnerRequestFor({ model: join(MODELS, name), backend: 'wasm', feed: [await photoFeed(name, 'chelsea.png')], feedFile: photo, capture: 'tensors', runs: 1, warmup: 0 });
    await withRunnerPage(dir, async (run, session) => {
      const statsWorkers: string[] = [];
      const memoryWorkers: string[] = [];
      const ringWorkers: string[] = [];
      session.page.on('worker', (w) => {
        if (w.url().includes('stats-worker-web')) statsWorkers.push(w.url());
        if (w.url().includes('memory-worker-web')) memoryWorkers.push(w.url());
        if (w.url().includes('stats-ring-worker-web')) ringWorkers.push(w.url());
      });
      const main = { ...request, where: 'main' as const };
      const here = await run({ ...main, statistics: 'here' });
      const pooled = await run({ ...main, statistics: 'pool' });
      expect(here.result.statsJobs).toBe(0);
      // Every output of at least 16,384 elements went to a worker (MobileNetV2 at 224²: most of them).
      expect(pooled.result.statsJobs).toBeGreaterThan(50);
      expect(expectSameTrace(pooled.trace, here.trace)).toBeGreaterThan(50);
      expect(statsWorkers.length).toBe(2);
      // The copies went into memory a worker of the pool's made ready (pages touched there, the
      // buffers transferred) while the timing passes ran: the same values, no page faults here.
      expect(here.result.readyCopies).toBe(0);
      expect(pooled.result.readyCopies).toBeGreaterThan(50);
      expect(memoryWorkers.length).toBe(1);
      // Statistics here, copies into ready memory (the viewer's way, on this thread): the same trace.
      const ready = await run({ ...main, statistics: 'memory' });
      expect(ready.result.statsJobs).toBe(0);
      expect(ready.result.readyCopies).toBeGreaterThan(50);
      expect(memoryWorkers.length).toBe(2);
      expect(expectSameTrace(ready.trace, here.trace)).toBeGreaterThan(50);
      expect(ringWorkers.length).toBe(0);
      // Statistics on a ring's worker, read back through shared memory as nodes end, each output
      // copied once, into the ring's memory, where the worker reads it: the same trace, every float32
      // output's statistics computed there, every copy made in the ring (no memory worker).
      const ringed = await run({ ...main, statistics: 'ring' });
      expect(ringed.result.statsJobs).toBeGreaterThan(50);
      expect(ringed.result.readyCopies).toBeGreaterThanOrEqual(ringed.result.statsJobs!);
      expect(ringWorkers.length).toBe(1);
      expect(memoryWorkers.length).toBe(2);
      expect(expectSameTrace(ringed.trace, here.trace)).toBeGreaterThan(50);
      // The viewer's way: the trace worker, its statistics and copies on a ring it starts itself
      // (nested): no statistics pool's worker, no memory worker.
      expect(request.where).toBe('worker');
      const viewer = await run(request);
      expect(statsWorkers.length).toBe(2);
      expect(memoryWorkers.length).toBe(2);
      expect(ringWorkers.length).toBe(2);
      expect(expectSameTrace(viewer.trace, here.trace)).toBeGreaterThan(50);

      // A job the worker fails rejects, naming the failure; a pool whose workers cannot load computes
      // here and loses nothing. (A string: the page imports the module from Vite, untouched by vitest.)
      const edges = (await session.page.evaluate(`(async () => {
        const { WebStatsPool } = await import('/src/viewer/worker/stats-pool-web.ts');
        const { computeStats } = await import('/src/trace/stats.ts');
        const values = () => Float32Array.from({ length: 20000 }, (_, i) => Math.sin(i) * 3);
        const pool = new WebStatsPool({ threads: 1 });
        await pool.whenReady();
        const failed = await pool.stats(values(), 0).then(() => 'resolved', (e) => e.message);
        const back = await pool.stats(values(), 32);
        await pool.close();
        const broken = new WebStatsPool({ threads: 2, workerUrl: new URL('/no-such-stats-worker.js', location.href) });
        const kept = await Promise.all([1, 2, 3].map(() => broken.stats(values(), 32)));
        const up = await broken.whenReady();
        await broken.close();
        const want = JSON.stringify(computeStats(values(), 32));
        // Memory asked of a memory worker that cannot load: the wait ends (no 2 s bound reached), none is
        // given, and the copies are made as before.
        const noMemory = new WebStatsPool({ threads: 1, prefaults: true, memoryWorkerUrl: new URL('/no-such-memory-worker.js', location.href) });
        await noMemory.whenReady();
        noMemory.expect([80000, 80000]);
        const t0 = performance.now();
        await noMemory.memoryReady(60000);
        const waited = performance.now() - t0;
        const memoryless = { ready: noMemory.readyBlob('float32', 20000), held: noMemory.readyMemoryBytes, ended: waited < 30000 };
        await noMemory.close();
        // One that can: what was asked is made, and given out once.
        const withMemory = new WebStatsPool({ threads: 1, prefaults: true });
        withMemory.expect([80000]);
        await withMemory.memoryReady();
        const a = withMemory.readyBlob('float32', 20000);
        const b = withMemory.readyBlob('float32', 20000);
        await withMemory.close();
        // A ring: its answers are computeStats'; one whose worker cannot load is given up, takes nothing.
        const { WebStatsRing } = await import('/src/viewer/worker/stats-ring-web.ts');
        const ring = WebStatsRing.open();
        const ticket = (await ring.whenReady()) ? ring.submit(values(), 32) : null;
        const ringSame = ticket !== null && JSON.stringify(await ring.wait(ticket)) === want;
        ring.close();
        const lost = WebStatsRing.open({ workerUrl: new URL('/no-such-ring-worker.js', location.href) });
        const lostReady = await lost.whenReady();
        const ringLost = { ready: lostReady, why: lost.givenUp, takes: lost.submit(values(), 32) };
        lost.close();
        return { ringSame, ringLost, failed, sent: pool.sent, backSame: JSON.stringify(back.stats) === want && back.data.length === 20000, up, brokenSent: broken.sent, keptSame: kept.every((r) => JSON.stringify(r.stats) === want), memoryless, made: a instanceof Float32Array && a.length === 20000 && a.buffer instanceof ArrayBuffer, again: b };
      })()`)) as Record<string, unknown>;
      expect(edges).toStrictEqual({ ringSame: true, ringLost: { ready: false, why: expect.stringMatching(/^its worker failed/), takes: null }, failed: expect.stringMatching(/^statistics worker: computeStats: bins must be a positive integer/), sent: 2, backSame: true, up: false, brokenSent: 0, keptSame: true, memoryless: { ready: null, held: 0, ended: true }, made: true, again: null });
    });
  });

  it('PaddleOCR orientation classifier on onnxruntime-web wasm, tensors capture: the same, the pool took its large values', async () => {
    const name = 'ppocr-mobile-v2-cls';
    const photo = join(SAMPLES, 'page_line1.png');
    const { dir, request } = await runnerRequestFor({ model: join(MODELS, name), backend: 'wasm', feed: [await photoFeed(name, 'page_line1.png')], feedFile: photo, capture: 'tensors', runs: 1, warmup: 0 });
    await withRunnerPage(dir, async (run) => {
      const main = { ...request, where: 'main' as const };
      const here = await run({ ...main, statistics: 'here' });
      const pooled = await run({ ...main, statistics: 'pool' });
      expect(here.result.statsJobs).toBe(0);
      expect(pooled.result.statsJobs).toBeGreaterThan(10);
      expect(expectSameTrace(pooled.trace, here.trace)).toBeGreaterThan(50);
    });
  });
});
