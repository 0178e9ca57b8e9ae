/**
 * Tracing overhead on an ONNX model in Node: the PaddleOCR PP-OCRv4 recogniser (440 nodes, the first
 * line of public/samples/page.png at 320x48) on onnxruntime-node (CPU EP) and on onnxruntime-web's
 * wasm EP. Variants are measured side by side: every round runs each once, in a fresh order, so
 * machine noise hits all alike; ratios are of medians.
 *
 * Per run:  plain                          the unmodified model (what the timed runs of a trace measure)
 *           timing pass run                the same model in a session created with the profiler on
 *           rewritten model, final outputs fetched only
 *                                          the capture session without reading the 440 exposed outputs
 *           capture run                    the rewritten model (every node output a graph output) in a
 *                                          session with traceOnnx's capture options (graph optimisation
 *                                          off, no arena, no memory pattern), every value taken as
 *                                          readPassNodes takes it (no second copy), no statistics
 *           capture run + stats            what traceOnnx's `stats` capture does: readPassNodes with the
 *                                          statistics on a pool of worker threads (src/reference/stats-pool-node.ts)
 *           … before (…)                   the path before issue 16 on the same session: every value
 *                                          copied again (tensorValues), statistics on this thread
 *           … as benchmarked before …      that old path on a session with onnxruntime's default options
 *                                          (optimised, arena): what this benchmark measured until the
 *                                          capture variants were made to use traceOnnx's session options
 *           floor: …                       what any capture of every value costs at least on this machine:
 *                                          the run without fetching the values, plus one memory copy of
 *                                          them into kept buffers, or one in-place statistics pass
 *           (cpu) … pre-allocated outputs reused, arena on
 *                                          not what traceOnnx does: onnxruntime-node writing into output
 *                                          buffers kept across runs (`run(feeds, fetches)`) in a session
 *                                          with the arena, statistics on the pool (what the goal would take)
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
import { decodeOnnx, describeOnnx, encodeOnnx, exposeAllOutputs } from '../src/onnx/model.ts';
import { computeStats } from '../src/trace/stats.ts';
import { inThreadStats } from '../src/trace/stats-pool.ts';
import { createSession, disposeAll, OrtRunner, tensorValues, timingPass, type KernelProfiler, type OrtModule, type OrtSession, type TensorValues } from '../src/instrument/ort/index.ts';
import { fileProfiler, loadOrt, stdoutProfiler, type OrtNodeBackend } from '../src/reference/ort-node.ts';
import type { RgbaImage } from '../src/preprocess/image.ts';
import { readPassNodes } from '../src/instrument/ort/capture-read.ts';
import { NodeStatsPool, threadsAfterRun } from '../src/reference/stats-pool-node.ts';
import type { StatsPool } from '../src/trace/stats-pool.ts';
import type { OrtTensor } from '../src/instrument/ort/ort-api.ts';
import type { TensorRecord, TensorStats } from '../src/trace/types.ts';
import type { BenchResult } from './types.ts';
import { roundOrder } from './round-order.ts';
import { fullGc } from '../src/reference/gc-node.ts';

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
  // traceOnnx's capture session options (trace-model.ts `captureOptions`).
  const capture = await timedCreate(rewritten, { graphOptimizationLevel: 'disabled', enableCpuMemArena: false, enableMemPattern: false });
  const optimised = await timedCreate(rewritten, {});
  const arena = backend === 'cpu' ? await timedCreate(rewritten, { graphOptimizationLevel: 'disabled' }) : undefined;
  const runner = (s: OrtSession): OrtRunner => new OrtRunner(ort, s, [input], types);
  const [rPlain, rProfiled, rCapture, rOptimised] = [runner(plain.s), runner(profiled.s), runner(capture.s), runner(optimised.s)];
  const finalOutputs = [...plain.s.outputNames];

  // readPassNodes as traceOnnx calls it, on every node of the model, records kept only as long as a run.
  const info = describeOnnx(decodeOnnx(bytes, 'ppocr-v4-rec'));
  const graphOutputs = new Set(info.outputs.map((o) => o.name));
  const pool = new NodeStatsPool({ threads: threadsAfterRun() }); // as src/reference/ort-node.ts
  await pool.whenReady();
  const readAll = async (outs: Record<string, OrtTensor | undefined>, statsPool: StatsPool | undefined, withStats: boolean): Promise<void> => {
    const record = (_node: string, _k: number, v: TensorValues, stats: TensorStats | undefined): TensorRecord => ({ shape: v.shape, dtype: v.dtype, ...(stats ? { stats } : {}) });
    const noStats: StatsPool = { stats: (data) => Promise.resolve({ stats: undefined as unknown as TensorStats, data }), warm: () => undefined, close: async () => undefined };
    await readPassNodes(info.nodes, outs, null, {
      info, graphOutputs, measured: new Map(), captured: new Map(), notes: new Map(), bins: 32, record,
      pool: withStats ? statsPool ?? inThreadStats : noStats,
    });
    disposeAll(outs as Record<string, OrtTensor>);
  };
  // Pre-allocated outputs (cpu only: onnxruntime-web's wasm EP copies a pre-allocated CPU output into its
  // heap and never back, so it is no use there): the buffers come back from the pool and are reused.
  let fetches: Record<string, OrtTensor> | undefined;
  if (arena) {
    const probe = await arena.s.run(rCapture.feeds());
    fetches = {};
    for (const [k, t] of Object.entries(probe)) fetches[k] = new ort.Tensor(t.type as 'float32', (t.data as Float32Array).slice(), t.dims);
  }

  // The floor of any capture that gives every value: the run without fetching them, plus the values
  // each written once to memory that outlives the run (kept buffers, no fresh pages), or each read
  // once by the statistics kernel where they lie. Real values of this input, from one capture run.
  const held = Object.values(await rCapture.run()).flatMap((t) => (t.type === 'float32' ? [t.data as Float32Array] : []));
  const heldCopies = held.map((v) => new Float32Array(v.length));

  const variants: Record<string, () => Promise<void>> = {
    plain: async () => disposeAll((await rPlain.timedRun()).outputs),
    'floor: final outputs fetched only + one memory copy of the values into kept buffers': async () => {
      disposeAll(await capture.s.run(rCapture.feeds(), finalOutputs));
      for (let i = 0; i < held.length; i++) heldCopies[i]!.set(held[i]!);
    },
    'floor: final outputs fetched only + statistics of the values where they lie (this thread)': async () => {
      disposeAll(await capture.s.run(rCapture.feeds(), finalOutputs));
      for (const v of held) computeStats(v);
    },
    'timing pass run (profiler on)': async () => disposeAll((await rProfiled.timedRun()).outputs),
    // The rewritten graph (fusions lost where a value is exposed) without copying 440 outputs out.
    'rewritten model, final outputs fetched only': async () => disposeAll(await capture.s.run(rCapture.feeds(), finalOutputs)),
    'capture run': async () => readAll(await rCapture.run(), undefined, false),
    'capture run + stats': async () => readAll(await rCapture.run(), pool, true),
    'capture run, before (values copied twice)': async () => {
      const outs = await rCapture.run();
      for (const t of Object.values(outs)) tensorValues(t);
      disposeAll(outs);
    },
    'capture run + stats, before (values copied twice, stats on this thread)': async () => {
      const outs = await rCapture.run();
      for (const t of Object.values(outs)) {
        const v = tensorValues(t);
        if (v.data) computeStats(v.data);
      }
      disposeAll(outs);
    },
    'capture run + stats, as benchmarked before (optimised session with arena, old path)': async () => {
      const outs = await rOptimised.run();
      for (const t of Object.values(outs)) {
        const v = tensorValues(t);
        if (v.data) computeStats(v.data);
      }
      disposeAll(outs);
    },
    ...(arena && fetches
      ? {
          'capture run + stats, pre-allocated outputs reused, arena on (not what traceOnnx does)': async () => {
            const f = fetches!;
            await arena.s.run(rCapture.feeds(), f);
            const back = await Promise.all(Object.values(f).map((t) => (t.type === 'float32' ? pool.stats(t.data as Float32Array, 32) : null)));
            let i = 0;
            for (const [k, t] of Object.entries(f)) {
              const r = back[i++];
              if (r) f[k] = new ort.Tensor('float32', r.data as Float32Array, t.dims);
            }
          },
        }
      : {}),
  };
  const settle = fullGc();
  if (!settle) throw new Error('bench: no full garbage collection available in this Node (--expose-gc)');
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await variants[n]!(); // first runs out of the way
  for (let r = 0; r < rounds; r++) {
    for (const n of roundOrder(names, r)) {
      // Each sample starts from a collected heap: none pays for the previous variant's 192 MiB (overhead.ts `settle`).
      settle();
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
  await pool.close();

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
    { name: `${tag} session create, rewritten (440 outputs), traceOnnx's capture options`, value: capture.ms, unit: 'ms' },
    { name: `${tag} capture run: values copied out per run`, value: (elements * 4) / 2 ** 20, unit: 'MiB' },
    { name: `${tag} whole timing pass (create + 2 runs + endProfiling + parse)`, value: median(passes), unit: 'ms' },
  );
  return out;
}

export async function benchOrt(): Promise<BenchResult[]> {
  const rounds = Number(process.env.EXRAY_BENCH_ROUNDS ?? 15);
  return [...(await benchRuntime('cpu', rounds)), ...(await benchRuntime('wasm', rounds))];
}
