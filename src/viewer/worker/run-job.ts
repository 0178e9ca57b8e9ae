/**
 * One traced run: select the backend, load the model, feed the prepared input, stream every trace
 * event to a TraceTransport. Transport-agnostic: the same code runs in a worker (postMessage transport)
 * and on the page's main thread (in-page transport).
 */
import type { TraceTransport } from '../../transport/types.ts';
import { streamModel } from '../../instrument/tfjs/index.ts';
import { tf, useBackend } from './backends.ts';
import { streamJob } from './job-stream.ts';
import { loadModel } from './load-model.ts';
import { traceRunOptions, tfjsUnsupported, type InputPayload, type ModelPayload, type RunJob } from './protocol.ts';
import type { StatsPool } from '../../trace/stats-pool.ts';
import type { CaptureMemory } from '../../trace/ready-memory.ts';
import type { PolledStats } from '../../trace/stats-ring.ts';
import { sharedWebStatsPool } from './stats-pool-web.ts';
import { WebReadyMemory } from './ready-memory-web.ts';
import { TENSORS_RING, WebStatsRing } from './stats-ring-web.ts';

/** Backends whose captures read each node's output synchronously, as it ends. */
const SYNC_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

export interface ExecuteOptions {
  /**
   * Where an ONNX capture's statistics are computed: default this thread's WebStatsPool (Web Workers
   * fed transferred copies, off the inference thread); null: on this thread, as each node ends. A
   * TF.js capture uses a stats ring instead (`statsRing`), so its rows stream while it runs, unless a
   * pool is given here (tests: its tensors capture then uses the pool, rows after the run).
   */
  statsPool?: StatsPool | null;
  /**
   * A TF.js tensors capture on cpu/wasm copies each node's values into this memory, made ready on a
   * worker while the timing passes run: default the job's own stats ring (`statsRing`), else a
   * WebReadyMemory of the job's own, closed with it (a page, maybe a phone's, holds none between
   * runs); null: new arrays.
   */
  memory?: CaptureMemory | null;
  /**
   * A TF.js stats/tensors capture on cpu/wasm hands its float32 statistics to this ring's worker
   * (shared memory, answers polled as later nodes end, so rows still stream): default a
   * WebStatsRing of the job's own where the page is cross-origin isolated, closed with the job;
   * null: computed on the inference thread.
   */
  statsRing?: PolledStats | null;
}

/**
 * Run `job`. Before the stream's run-start, what happens is told through `onStatus` (a trace stream
 * must begin with run-start). Resolves when the stream has ended (run-end), rejects after run-error.
 */
export async function executeJob(
  model: ModelPayload,
  input: InputPayload,
  job: RunJob,
  transport: TraceTransport,
  onStatus: (phase: string) => void = () => {},
  opts: ExecuteOptions = {},
): Promise<void> {
  if (model.format === 'onnx') {
    // onnxruntime-web loads only for ONNX jobs (its console hook must precede it: run-onnx.ts).
    const { executeOnnxJob } = await import('./run-onnx.ts');
    return executeOnnxJob(model, input, job, transport, onStatus, opts.statsPool === undefined ? sharedWebStatsPool() : opts.statsPool);
  }
  return streamJob(transport, job.stream, async (emit) => {
    const why = tfjsUnsupported(job.backend);
    if (why) throw new Error(why);
    onStatus(`starting ${job.backend}`);
    const environment = await useBackend(job.backend, job.options);
    // Statistics are computed by a ring's worker from a copy in shared memory and polled as later
    // nodes end, so rows go to the page during the run (a pool's answers are read only after the run:
    // the rows would all arrive at its end); without shared memory, here, in the wasm heap, as each
    // node ends. What made a tensors capture cost ×3.7–3.9 of plain inference was page faults: copying
    // a MobileNetV2 capture's 41 MB into new arrays; into memory a worker made ready (touched while
    // the timing passes ran) it costs a few ms (src/trace/ready-memory.ts). A tensors capture's ring
    // is that memory too: each output is copied once, and its statistics computed where the copy lies.
    const sync = SYNC_BACKENDS.has(job.backend) && job.capture !== 'timing';
    const keeps = sync && job.capture === 'tensors';
    const ringed = sync && !opts.statsPool && opts.statsRing === undefined;
    // A memory whose maximum reserves 128 MiB of address space may be refused (a 32-bit phone): then
    // a ring that keeps nothing, and a WebReadyMemory for the copies.
    const keepingRing = ringed && keeps && opts.memory === undefined ? WebStatsRing.open(TENSORS_RING) : null;
    const ownRing = keepingRing ?? (ringed ? WebStatsRing.open() : null);
    const statsRing = opts.statsRing === undefined ? ownRing : opts.statsRing;
    const ownMemory = keeps && opts.memory === undefined && !keepingRing ? new WebReadyMemory() : null;
    const memory = keeps ? (opts.memory === undefined ? keepingRing ?? ownMemory : opts.memory) : null;
    const capturing = sync
      ? { ...(opts.statsPool && keeps ? { statsPool: opts.statsPool } : {}), ...(memory ? { memory } : {}), ...(statsRing ? { statsRing } : {}) }
      : {};
    // The workers load (module, kernel) while the model does, so they take the capture from its first node.
    capturing.statsPool?.warm();
    try {
      onStatus('loading model');
      const m = await loadModel(model);
      onStatus('running');
      const x = tf.tensor(input.data, input.shape, input.dtype);
      try {
        // streamModel keeps nothing: the transport may move each blob buffer to the page.
        await streamModel(m, x, { ...traceRunOptions(model, input, job), environment, onEvent: emit, ...capturing });
      } finally {
        x.dispose();
        m.dispose();
      }
    } finally {
      ownRing?.close();
      await ownMemory?.close();
    }
  });
}
