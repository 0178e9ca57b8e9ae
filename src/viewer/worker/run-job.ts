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
import { sharedWebStatsPool } from './stats-pool-web.ts';

/** Backends whose captures read each node's output synchronously: their statistics can go to a StatsPool. */
const POOLED_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

export interface ExecuteOptions {
  /**
   * Where a capture's statistics are computed: default this thread's WebStatsPool (Web Workers fed
   * transferred copies, off the inference thread: ONNX captures, TF.js tensors captures on cpu/wasm);
   * null: on this thread, as each node ends.
   */
  statsPool?: StatsPool | null;
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
  const statsPool = opts.statsPool === undefined ? sharedWebStatsPool() : opts.statsPool;
  if (model.format === 'onnx') {
    // onnxruntime-web loads only for ONNX jobs (its console hook must precede it: run-onnx.ts).
    const { executeOnnxJob } = await import('./run-onnx.ts');
    return executeOnnxJob(model, input, job, transport, onStatus, statsPool);
  }
  return streamJob(transport, job.stream, async (emit) => {
    const why = tfjsUnsupported(job.backend);
    if (why) throw new Error(why);
    onStatus(`starting ${job.backend}`);
    const environment = await useBackend(job.backend, job.options);
    // A tensors capture copies every output anyway (the trace keeps it): the copy then goes to a worker
    // and back. A stats capture reads the wasm heap in place on this thread, so its node rows stream
    // while the run goes on (a pool's answers are read after the run). With its copies in ready memory
    // the pool measured ×1.26–1.29 of plain inference against ×1.33–1.62 here (Chromium, MobileNetV2
    // graph wasm, two bench runs): not worth rows that only show once the run is over.
    const pooled = statsPool && POOLED_BACKENDS.has(job.backend) && job.capture === 'tensors' ? { statsPool } : {};
    // The workers load (module, kernel) while the model does, so they take the capture from its first node.
    pooled.statsPool?.warm();
    onStatus('loading model');
    const m = await loadModel(model);
    onStatus('running');
    const x = tf.tensor(input.data, input.shape, input.dtype);
    try {
      // streamModel keeps nothing: the transport may move each blob buffer to the page.
      // Statistics off this thread where the capture reads outputs synchronously (GPU backends read
      // back after the run and compute them here).
      await streamModel(m, x, { ...traceRunOptions(model, input, job), environment, onEvent: emit, ...pooled });
    } finally {
      x.dispose();
      m.dispose();
    }
  });
}
