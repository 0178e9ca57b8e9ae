/**
 * The ways exray runs an ONNX model: plain runs (timed), the timing pass (a profiler around one run
 * of the unmodified model) and the capture pass (one run of the rewritten model, every node output
 * read back). Separate so benchmarks measure exactly what traceOnnx runs.
 */
import type { OrtModule, OrtSession, OrtSessionOptions, OrtTensor } from './ort-api.ts';
import type { KernelProfiler } from './profilers.ts';
import type { RawKernel } from './profile.ts';
import { toOrtTensor, type OrtInput } from './tensors.ts';

/** Raised when onnxruntime cannot create a session for the (unmodified) model. */
export class OrtLoadError extends Error {
  override name = 'OrtLoadError';
}

/** Create a session, turning ORT's error into an OrtLoadError with its message. */
export async function createSession(ort: OrtModule, model: Uint8Array, options: OrtSessionOptions): Promise<OrtSession> {
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new OrtLoadError(e instanceof Error ? e.message : String(e));
  }
}

/** Runs a session on fixed inputs, with fresh input tensors per run (ORT proxy mode detaches them). */
export class OrtRunner {
  constructor(
    readonly ort: OrtModule,
    readonly session: OrtSession,
    private readonly inputs: OrtInput[],
    /** ORT tensor type per input name (from the model's declared element types). */
    private readonly types: Map<string, string>,
  ) {}

  feeds(): Record<string, OrtTensor> {
    const feeds: Record<string, OrtTensor> = {};
    for (const i of this.inputs) feeds[i.name] = toOrtTensor(this.ort, i, this.types.get(i.name) ?? 'float32');
    return feeds;
  }

  /** One run; the outputs are on the CPU when it resolves (the default output location). */
  async run(): Promise<Record<string, OrtTensor>> {
    return this.session.run(this.feeds());
  }

  /** One plain run including output read-back; returns wall milliseconds. */
  async timedRun(): Promise<{ ms: number; outputs: Record<string, OrtTensor> }> {
    const feeds = this.feeds();
    const t0 = performance.now();
    const outputs = await this.session.run(feeds);
    for (const t of Object.values(outputs)) {
      // GPU-located outputs (when a caller asked for them) are downloaded inside the timed region.
      if (t.location !== 'cpu' && t.location !== 'cpu-pinned' && typeof t.getData === 'function') await t.getData();
    }
    return { ms: performance.now() - t0, outputs };
  }
}

export function disposeAll(outputs: Record<string, OrtTensor> | undefined): void {
  if (!outputs) return;
  for (const t of Object.values(outputs)) {
    try {
      t.dispose();
    } catch {
      // CPU tensors of onnxruntime-node have nothing to free.
    }
  }
}

/**
 * The timing pass: the profiler around one run of the unmodified model, after one untimed run (so
 * first-run allocations stay out of it). A profiler that needs its own session gets one, created with
 * its options and released here; otherwise the plain session's runner is used.
 */
export async function timingPass(
  ort: OrtModule,
  model: Uint8Array,
  baseOptions: OrtSessionOptions,
  profiler: KernelProfiler,
  plain: OrtRunner,
  inputs: OrtInput[],
  types: Map<string, string>,
): Promise<RawKernel[]> {
  let runner = plain;
  let own: OrtSession | undefined;
  if (profiler.ownSession) {
    own = await createSession(ort, model, { ...baseOptions, ...profiler.sessionOptions() });
    runner = new OrtRunner(ort, own, inputs, types);
  }
  try {
    disposeAll(await runner.run());
    return await profiler.profile(runner.session, async () => disposeAll(await runner.run()));
  } finally {
    await own?.release();
  }
}
