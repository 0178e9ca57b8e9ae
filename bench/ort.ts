/**
 * Tracing overhead on an ONNX model in Node: the PaddleOCR PP-OCRv4 recogniser (440 nodes, the first
 * line of public/samples/page.png at 320x48) on onnxruntime-node (CPU EP) and on onnxruntime-web's
 * wasm EP. Variants are measured side by side: every round runs each once, in rotating order, so
 * machine noise hits all alike; ratios are of medians.
 *
 * Per run:  plain                          the unmodified model (what the timed runs of a trace measure)
 *           timing pass run                the same model in a session created with the profiler on
 *           capture run                    the rewritten model (every node output a graph output),
 *                                          outputs copied out
 *           capture run + stats            + stats of every output (what `stats` capture does)
 * One-off:  session creation (unmodified, profiling, rewritten), and the whole timing pass as
 *           traceOnnx runs it (own session, one warm-up run, the profiled run, endProfiling, parse).
 * Rounds: EXRAY_BENCH_ROUNDS (default 15).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { cropPlanes } from '../src/preprocess/geometry.ts';
import { decodeOnnx, encodeOnnx, exposeAllOutputs } from '../src/onnx/model.ts';
import { computeStats } from '../src/trace/stats.ts';
import { createSession, disposeAll, OrtRunner, tensorValues, timingPass, type KernelProfiler, type OrtModule, type OrtSession } from '../src/instrument/ort/index.ts';
import { fileProfiler, loadOrt, stdoutProfiler, type OrtNodeBackend } from '../src/reference/ort-node.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';
import type { BenchResult } from './types.ts';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function time(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** The first text line of page.png (rows 13-33, columns 7-290, as test/ort-helpers.ts finds it), 4 px margin. */
const LINE = { x: 3, y: 9, width: 292, height: 29 };

async function recInput(): Promise<{ name: string; shape: number[]; dtype: 'float32'; data: Float32Array }> {
  const card = await loadModelCard(join('models', 'ppocr-v4-rec', 'exray.json'));
  const spec = card.inputs[0]!.preprocess!;
  const { image } = await decodeImageFile(join('public', 'samples', 'page.png'));
  const planes = { width: image.width, height: image.height, channels: 4, layout: 'interleaved' as const, data: image.data };
  const crop = cropPlanes(planes, LINE);
  const t = preprocess({ width: crop.width, height: crop.height, data: crop.data } as RgbaImage, 1, spec);
  return { name: 'x', shape: t.shape, dtype: 'float32', data: t.data as Float32Array };
}

async function benchRuntime(backend: OrtNodeBackend, rounds: number): Promise<BenchResult[]> {
  const { ort, runtime } = await loadOrt(backend);
  const bytes = new Uint8Array(await readFile(join('models', 'ppocr-v4-rec', 'model.onnx')));
  const rewritten = encodeOnnx(exposeAllOutputs(decodeOnnx(bytes, 'ppocr-v4-rec')).model);
  const input = await recInput();
  const types = new Map([['x', 'float32']]);
  const base = { executionProviders: [backend], ...(backend === 'cpu' ? { intraOpNumThreads: 2 } : {}) };
  const makeProfiler = async (): Promise<KernelProfiler> => (backend === 'cpu' ? fileProfiler() : stdoutProfiler());

  const created: OrtSession[] = [];
  const timedCreate = async (model: Uint8Array, options: object): Promise<{ s: OrtSession; ms: number }> => {
    const t0 = performance.now();
    const s = await createSession(ort as OrtModule, model, { ...base, ...options });
    created.push(s);
    return { s, ms: performance.now() - t0 };
  };
  const profiler = await makeProfiler();
  const plain = await timedCreate(bytes, {});
  const profiled = await timedCreate(bytes, profiler.sessionOptions());
  const capture = await timedCreate(rewritten, {});
  const runner = (s: OrtSession): OrtRunner => new OrtRunner(ort, s, [input], types);
  const [rPlain, rProfiled, rCapture] = [runner(plain.s), runner(profiled.s), runner(capture.s)];
  const finalOutputs = [...plain.s.outputNames];

  const variants: Record<string, () => Promise<void>> = {
    plain: async () => disposeAll((await rPlain.timedRun()).outputs),
    'timing pass run (profiler on)': async () => disposeAll((await rProfiled.timedRun()).outputs),
    // The rewritten graph (fusions lost where a value is exposed) without copying 440 outputs out.
    'rewritten model, final outputs fetched only': async () => disposeAll(await capture.s.run(rCapture.feeds(), finalOutputs)),
    'capture run': async () => {
      const outs = await rCapture.run();
      for (const t of Object.values(outs)) tensorValues(t);
      disposeAll(outs);
    },
    'capture run + stats': async () => {
      const outs = await rCapture.run();
      for (const t of Object.values(outs)) {
        const v = tensorValues(t);
        if (v.data) computeStats(v.data);
      }
      disposeAll(outs);
    },
  };
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await variants[n]!(); // first runs out of the way
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < names.length; j++) {
      const n = names[(r + j) % names.length]!;
      samples[n]!.push(await time(variants[n]!));
    }
  }
  const probe = await capture.s.run(rCapture.feeds());
  const elements = Object.values(probe).reduce((n, t) => n + t.size, 0);
  disposeAll(probe);
  // End the profiling session's profile through the profiler (else ORT writes or prints it at release).
  await profiler.profile(profiled.s, async () => {});
  for (const s of created) await s.release();
  await profiler.dispose?.();

  // The whole timing pass as traceOnnx runs it, a few times (each creates its own session).
  const again = await createSession(ort, bytes, base);
  const passes: number[] = [];
  for (let i = 0; i < Math.max(2, Math.round(rounds / 5)); i++) {
    const p = await makeProfiler();
    const t0 = performance.now();
    await timingPass(ort, bytes, base, p, runner(again), [input], types);
    passes.push(performance.now() - t0);
    await p.dispose?.();
  }
  await again.release();

  const tag = `ppocr-v4-rec/${runtime} ${backend}`;
  const plainMs = median(samples.plain!);
  const out: BenchResult[] = [{ name: `${tag} plain run median`, value: plainMs, unit: 'ms' }];
  for (const n of names) if (n !== 'plain') out.push({ name: `${tag} ${n} / plain`, value: median(samples[n]!) / plainMs, unit: 'ratio' });
  out.push(
    { name: `${tag} session create, unmodified`, value: plain.ms, unit: 'ms' },
    { name: `${tag} session create, profiling`, value: profiled.ms, unit: 'ms' },
    { name: `${tag} session create, rewritten (440 outputs)`, value: capture.ms, unit: 'ms' },
    { name: `${tag} capture run: values copied out per run`, value: (elements * 4) / 2 ** 20, unit: 'MiB' },
    { name: `${tag} whole timing pass (create + 2 runs + endProfiling + parse)`, value: median(passes), unit: 'ms' },
  );
  return out;
}

export async function benchOrt(): Promise<BenchResult[]> {
  const rounds = Number(process.env.EXRAY_BENCH_ROUNDS ?? 15);
  return [...(await benchRuntime('cpu', rounds)), ...(await benchRuntime('wasm', rounds))];
}
