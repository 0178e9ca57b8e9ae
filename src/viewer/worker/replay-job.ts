/**
 * Single-node replay in a trace worker: load the reference model on the reference backend (TF.js cpu
 * or wasm; ONNX: onnxruntime-web wasm) and replay each requested node alone on the edge trace's
 * recorded inputs, with the code the CLI runs in Node (src/instrument/tfjs/replay.ts,
 * src/instrument/ort/replay.ts). A node that cannot be replayed comes back with `error`; only a model
 * that cannot be loaded fails the request.
 */
import type { ReplayResult } from '../../instrument/common.ts';
import { replayTfjsNodes } from '../../instrument/tfjs/replay.ts';
import type { Trace } from '../../trace/types.ts';
import { useBackend } from './backends.ts';
import { loadModel } from './load-model.ts';
import { tfjsUnsupported, type ModelPayload, type ReplayAnswer, type ReplayJob } from './protocol.ts';

export async function executeReplay(model: ModelPayload, edge: Trace, job: ReplayJob, onStatus: (phase: string) => void = () => {}): Promise<ReplayAnswer> {
  const t0 = performance.now();
  let results: ReplayResult[];
  let loadMs: number;
  if (model.format === 'onnx') {
    // The reference of an ONNX trace is onnxruntime-web wasm, whatever backend the job names.
    onStatus('starting onnxruntime-web wasm');
    const [{ ort, configureWasm }, { OnnxNodeReplayer }, { decodeOnnx }] = await Promise.all([
      import('./run-onnx.ts'),
      import('../../instrument/ort/replay.ts'),
      import('../../onnx/model.ts'),
    ]);
    configureWasm(job.options);
    const replayer = new OnnxNodeReplayer(ort, decodeOnnx(new Uint8Array(model.bytes), model.name), { executionProviders: ['wasm'] });
    loadMs = performance.now() - t0;
    onStatus(`replaying ${job.nodes.length} nodes`);
    results = await replayer.replay(edge, job.nodes);
  } else {
    const why = tfjsUnsupported(job.backend);
    if (why) throw new Error(why);
    onStatus(`starting ${job.backend}`);
    await useBackend(job.backend, job.options);
    const m = await loadModel(model);
    loadMs = performance.now() - t0;
    onStatus(`replaying ${job.nodes.length} nodes`);
    try {
      results = await replayTfjsNodes(m, edge, job.nodes);
    } finally {
      m.dispose();
    }
  }
  return { results, loadMs: Math.round(loadMs), replayMs: Math.round(performance.now() - t0 - loadMs) };
}
