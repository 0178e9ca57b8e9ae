/**
 * The page `exray trace --browser` drives: it fetches the model and input the Node side serves,
 * runs the same traced job the viewer runs (viewer/worker), folds the event stream into a trace and
 * uploads the `.exray` bytes. Nothing here knows about Playwright.
 */
import { runJobInWorker, runJobOnMainThread } from '../viewer/worker/client.ts';
import type { InputPayload, ModelPayload, RunJob } from '../viewer/worker/protocol.ts';
import { WebStatsPool } from '../viewer/worker/stats-pool-web.ts';
import { WebReadyMemory } from '../viewer/worker/ready-memory-web.ts';
import { TENSORS_RING, WebStatsRing } from '../viewer/worker/stats-ring-web.ts';
import { createInPageTransport } from '../transport/in-page.ts';
import { fetchAnyModel, inputPayload } from './payload.ts';
import { TraceBuilder } from '../trace/events.ts';
import { encodeTrace } from '../trace/file-writer.ts';
import { RUNNER_PREFIX, type BenchRequest, type RunnerRequest, type RunnerResult } from './protocol.ts';

/**
 * A main-thread run with its statistics where the request says (tests compare the two ways); returns
 * the arrays the pool sent to its workers, and those it gave out of ready memory.
 */
async function runHere(where: 'here' | 'memory' | 'pool' | 'ring', model: ModelPayload, input: InputPayload, job: RunJob, builder: TraceBuilder, say: (s: string) => void): Promise<Pick<RunnerResult, 'statsJobs' | 'readyCopies'>> {
  const { executeJob } = await import('../viewer/worker/run-job.ts');
  const pool = where === 'pool' ? new WebStatsPool({ threads: 2, prefaults: true }) : null;
  const memory = where === 'memory' ? new WebReadyMemory() : null;
  // As the viewer opens a tensors capture's ring (run-job.ts): it keeps the copies too.
  const ring = where === 'ring' ? WebStatsRing.open(TENSORS_RING) : null;
  const transport = createInPageTransport();
  transport.subscribe((m) => builder.push(m.event));
  try {
    if (pool && !(await pool.whenReady())) throw new Error('no statistics worker could start in this page');
    if (ring && !(await ring.whenReady())) throw new Error('no stats ring could start in this page');
    await executeJob(model, input, job, transport, say, { statsPool: pool, memory: memory ?? ring, statsRing: ring });
    return { statsJobs: (pool?.sent ?? 0) + (ring?.submitted ?? 0), readyCopies: (pool?.readyTaken ?? 0) + (memory?.given ?? 0) + (ring?.given ?? 0) };
  } finally {
    transport.close();
    ring?.close();
    await Promise.all([pool?.close(), memory?.close()]);
  }
}

async function run(req: RunnerRequest): Promise<RunnerResult> {
  const status = document.getElementById('status');
  const say = (s: string): void => {
    if (status) status.textContent = s;
  };
  try {
    const model = await fetchAnyModel(req.model);
    const input = inputPayload(req.input);
    const job: RunJob = { stream: req.backend, backend: req.backend, options: req.options, label: req.label, capture: req.capture, runs: req.runs, warmup: req.warmup, ...(req.nodes ? { nodes: req.nodes } : {}), ...(req.maxMemoryBytes !== undefined ? { maxMemoryBytes: req.maxMemoryBytes } : {}) };
    const builder = new TraceBuilder({ source: `browser ${req.backend}` });
    let pooled: Pick<RunnerResult, 'statsJobs' | 'readyCopies'> = {};
    if (req.statistics && req.where !== 'main') throw new Error('statistics: for runs on the main thread only');
    if (req.statistics) pooled = await runHere(req.statistics, model, input, job, builder, say);
    else {
      const start = req.where === 'worker' ? runJobInWorker : runJobOnMainThread;
      const handle = start(model, input, job, (t) => t.subscribe((m) => builder.push(m.event)), say);
      await handle.done;
    }
    // Let the last queued events drain from the worker.
    await new Promise((r) => setTimeout(r, 50));
    // Stored, not compressed: these bytes only cross loopback to the CLI, which writes the file
    // (deflating ~200 MB of activations in the page would cost more than the copy it saves).
    const bytes = encodeTrace(builder.finish(), { compress: false });
    const up = await fetch(`${RUNNER_PREFIX}result`, { method: 'POST', body: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
    if (!up.ok) throw new Error(`upload failed: HTTP ${up.status}`);
    say(`done: ${bytes.length} bytes`);
    return { ok: true, bytes: bytes.length, ...pooled };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    say(`failed: ${message}`);
    return { ok: false, error: message };
  }
}

(globalThis as { exrayRun?: typeof run }).exrayRun = run;
// Benchmarks load only when asked for (`npm run bench`).
(globalThis as { exrayBench?: unknown }).exrayBench = async (req: BenchRequest) => (await import('./bench.ts')).runBench(req);
document.body.dataset.ready = 'true';
