/**
 * The page of test/ort-browser.test.ts: the onnxruntime instrumenter in Chromium, with the two
 * onnxruntime-web builds a page may use: `onnxruntime-web` (JSEP: wasm, webgpu) and
 * `onnxruntime-web/webgpu` (native WebGPU EP). The console hook comes first (see console-hook.ts).
 */
import '../src/instrument/ort/console-hook.ts';
import * as ortJsep from 'onnxruntime-web';
import * as ortNative from 'onnxruntime-web/webgpu';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import type { CaptureMode } from '../src/trace/types.ts';

for (const m of [ortJsep, ortNative]) m.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';

export interface PageRequest {
  modelUrl: string;
  build: 'jsep' | 'native';
  ep: 'wasm' | 'webgpu';
  capture: CaptureMode;
  input: { name: string; shape: number[]; data: number[] };
  /** Timed runs and warm-ups (default 2 and 1). */
  runs?: number;
  warmup?: number;
}

async function run(req: PageRequest): Promise<{ trace: string } | { error: string }> {
  try {
    const bytes = new Uint8Array(await (await fetch(req.modelUrl)).arrayBuffer());
    const ort = (req.build === 'jsep' ? ortJsep : ortNative) as unknown as OrtModule;
    const input = { name: req.input.name, shape: req.input.shape, dtype: 'float32' as const, data: Float32Array.from(req.input.data) };
    const trace = await traceOnnx(ort, bytes, [input], { runtime: 'onnxruntime-web', executionProvider: req.ep, capture: req.capture, runs: req.runs ?? 2, warmup: req.warmup ?? 1, modelName: 'page' });
    // base64: a compact way through page.evaluate.
    const file = encodeTrace(trace);
    let bin = '';
    for (let i = 0; i < file.length; i += 0x8000) bin += String.fromCharCode(...file.subarray(i, i + 0x8000));
    return { trace: btoa(bin) };
  } catch (e) {
    return { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

(globalThis as unknown as { exrayOrt: typeof run; exrayReady: boolean }).exrayOrt = run;
(globalThis as unknown as { exrayReady: boolean }).exrayReady = true;
