/**
 * One traced ONNX run: onnxruntime-web (the JSEP build: `wasm` and `webgpu` execution providers) with
 * the ORT instrumenter, streaming the same TraceEvents as a TF.js job. The console hook is imported
 * first: onnxruntime-web binds `console.log` when its module is evaluated and prints session profiles
 * through that binding (src/instrument/ort/console-hook.ts). Loaded only for ONNX jobs.
 */
import '../../instrument/ort/console-hook.ts';
import * as ortWeb from 'onnxruntime-web';
// Vite does not follow onnxruntime-web's own `new URL(…wasm, import.meta.url)` into a worker chunk
// reliably: import the binary's URL and hand it to ORT.
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { traceOnnx, type OrtInput, type OrtModule } from '../../instrument/ort/index.ts';
import type { TraceTransport } from '../../transport/types.ts';
import type { StatsPool } from '../../trace/stats-pool.ts';
import { streamJob } from './job-stream.ts';
import type { BackendOptions, InputPayload, OnnxModelPayload, RunJob } from './protocol.ts';
import { onnxUnsupported, traceRunOptions } from './protocol.ts';

export const ort = ortWeb as unknown as OrtModule;
ort.env.wasm.wasmPaths = { wasm: new URL(ortWasmUrl, import.meta.url).href };

/** onnxruntime-web's wasm settings for a job (before its first session). */
export function configureWasm(options: BackendOptions): void {
  const onMainThread = typeof document !== 'undefined';
  // Threads need cross-origin isolation; the proxy worker would print the profile out of reach.
  ort.env.wasm.proxy = false;
  if (!options.wasmThreads || onMainThread) ort.env.wasm.numThreads = 1;
  if (!options.wasmSimd) (ort.env.wasm as { simd?: boolean }).simd = false;
}

/** The model input the main tensor feeds: the payload's name, else the card's first input. */
function inputName(model: OnnxModelPayload, input: InputPayload): string {
  const name = input.name ?? model.card?.inputs[0]?.name;
  if (!name) throw new Error(`${model.name}: which model input does the tensor feed? (no input name and no model card)`);
  return name;
}

export async function executeOnnxJob(
  model: OnnxModelPayload,
  input: InputPayload,
  job: RunJob,
  transport: TraceTransport,
  onStatus: (phase: string) => void = () => {},
  /** Where captured values' statistics are computed (null: on this thread). */
  statsPool: StatsPool | null = null,
): Promise<void> {
  return streamJob(transport, job.stream, async (emit) => {
    const why = onnxUnsupported(job.backend);
    if (why) throw new Error(why);
    onStatus(`starting onnxruntime-web ${job.backend}`);
    configureWasm(job.options);
    const inputs: OrtInput[] = [
      { name: inputName(model, input), shape: input.shape, dtype: input.dtype, data: input.data },
      ...(input.others ?? []).map((o) => ({ name: o.name, shape: o.shape, dtype: o.dtype, data: o.data })),
    ];
    onStatus('running');
    await traceOnnx(ort, new Uint8Array(model.bytes), inputs, {
      runtime: 'onnxruntime-web',
      executionProvider: job.backend === 'webgpu' || job.backend === 'webnn' ? job.backend : 'wasm',
      ...traceRunOptions(model, input, job),
      ...(job.maxMemoryBytes !== undefined ? { maxMemoryBytes: job.maxMemoryBytes } : {}),
      modelFile: model.name,
      ...(statsPool ? { statsPool } : {}),
      onEvent: (e) => {
        // A worker transport moves blob buffers; traceOnnx keeps using some arrays after emitting them
        // (the input for every run, node values for the output check): send copies.
        emit(e.type === 'blob' ? { ...e, data: e.data.slice() } : e);
      },
    });
  });
}
