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
): Promise<void> {
  if (model.format === 'onnx') {
    // onnxruntime-web loads only for ONNX jobs (its console hook must precede it: run-onnx.ts).
    const { executeOnnxJob } = await import('./run-onnx.ts');
    return executeOnnxJob(model, input, job, transport, onStatus);
  }
  return streamJob(transport, job.stream, async (emit) => {
    const why = tfjsUnsupported(job.backend);
    if (why) throw new Error(why);
    onStatus(`starting ${job.backend}`);
    const environment = await useBackend(job.backend, job.options);
    onStatus('loading model');
    const m = await loadModel(model);
    onStatus('running');
    const x = tf.tensor(input.data, input.shape, input.dtype);
    try {
      // streamModel keeps nothing: the transport may move each blob buffer to the page.
      await streamModel(m, x, { ...traceRunOptions(model, input, job), environment, onEvent: emit });
    } finally {
      x.dispose();
      m.dispose();
    }
  });
}
