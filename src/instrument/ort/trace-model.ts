/**
 * traceOnnx: run an ONNX model under instrumentation with onnxruntime (web or node) and produce a
 * trace (and its event stream), in the same format as TF.js traces.
 *
 * Passes, each on the same input:
 *   1. cold run, warm-up and N timed plain runs of the **unmodified** model → whole-inference median;
 *   2. timing pass: one run of the unmodified model under a kernel profiler (ORT session profiler, or
 *      WebGPU timestamps) → every kernel with its time, mapped back to model nodes;
 *   3. capture pass(es) (`stats` / `tensors`): runs of a **rewritten** model whose selected node outputs
 *      are graph outputs → those nodes' values. One run when every selected output fits the memory
 *      budget (`maxMemoryBytes`), else several runs over consecutive subsets of the nodes (same input,
 *      same session options), stitched into one trace whose `capturePlan` says so (capture-plan.ts).
 *      Each output is recorded (and its blob emitted) as it is read, then dropped.
 * Exposing outputs changes what onnxruntime fuses, so timing uses the unmodified model, and the
 * rewritten model's final outputs are checked against the unmodified one's (a warning when they differ).
 * When the execution provider cannot create or run the rewritten model, the trace says so and keeps
 * the timing pass only.
 */
import type { CaptureMode, NamedTensor, TensorRecord, TensorStats, Trace, TraceEvent } from '../../trace/types.ts';
import { TraceBuilder } from '../../trace/events.ts';
import { computeStats } from '../../trace/stats.ts';
import { blobIdFor } from '../../trace/ids.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, inputElemType, type OnnxGraphInfo } from '../../onnx/model.ts';
import { describeBodies, withBodies } from '../../onnx/subgraphs.ts';
import { NodeRecordStream, runStartEvents } from './records.ts';
import type { OrtExecutionProvider, OrtModule, OrtRuntimeName, OrtSession, OrtSessionOptions, OrtTensor } from './ort-api.ts';
import { consoleProfiler, webgpuProfiler, type KernelProfiler } from './profilers.ts';
import type { RawKernel } from './profile.ts';
import { kernelRecords } from './kernel-records.ts';
import { exposeForCapture, type CaptureModel } from './subgraph-capture.ts';
import { CaptureReadError, FinalOutputsCheck, readPassNodes } from './capture-read.ts';
import type { StatsPool } from '../../trace/stats-pool.ts';
import { createSession, disposeAll, OrtLoadError, OrtRunner, timingPass } from './passes.ts';
import { timingSessionOptions, valuesBytes } from './session-options.ts';
import { ortTypeOfOnnx, tensorValues, type OrtInput, type TensorValues } from './tensors.ts';
import { median, type TraceRunOptions } from '../common.ts';
import { CaptureBudgetError, defaultPageBudget, estimateSizes, formatBytes, graphOutputCost, nextPass, type ValueSize } from './capture-plan.ts';
import type { CapturePlan } from '../../trace/types.ts';

export interface TraceOnnxOptions extends TraceRunOptions {
  runtime: OrtRuntimeName;
  executionProvider: OrtExecutionProvider;
  /**
   * How kernel times are read. Default: onnxruntime-web wasm → the profile printed to the console
   * (`consoleProfiler`), webgpu → `webgpuProfiler`; otherwise none (pass one, e.g. the Node file reader).
   */
  profiler?: KernelProfiler | null;
  /** Extra session options for every session (threads, optimisation level). */
  sessionOptions?: OrtSessionOptions;
  /** Names the model in error messages (a path or a file name). */
  modelFile?: string;
  /**
   * Memory budget for the outputs one capture run exposes, bytes (see capture-plan.ts for what is
   * counted). Default: a quarter of `navigator.deviceMemory`, else 1 GiB (Node callers pass their own).
   */
  maxMemoryBytes?: number;
  /**
   * Where the statistics of captured values are computed (default: this thread). A pool of worker
   * threads (src/reference/stats-pool-node.ts) takes them off the thread that reads the run; the caller
   * owns it (warmed here just before the capture run, never closed here).
   */
  statsPool?: StatsPool;
  /**
   * Called after each capture pass of several, once its session and outputs are released (Node: a full
   * garbage collection, src/reference/gc-node.ts). A pass's dropped arrays are otherwise freed whenever
   * the engine next collects, and several passes' worth can then sit in memory at once.
   */
  afterPass?: () => void;
}

function defaultProfiler(ort: OrtModule, opts: TraceOnnxOptions): KernelProfiler | null {
  if (opts.profiler !== undefined) return opts.profiler;
  if (opts.runtime === 'onnxruntime-web' && opts.executionProvider === 'wasm') return consoleProfiler();
  if (opts.runtime === 'onnxruntime-web' && opts.executionProvider === 'webgpu') return webgpuProfiler(ort);
  return null;
}

/** The ORT tensor type to feed each model input, from its declared element type. */
function inputTypes(info: OnnxGraphInfo, inputs: OrtInput[]): Map<string, string> {
  const types = new Map<string, string>();
  for (const i of inputs) {
    const t = inputElemType(info, i.name);
    types.set(i.name, (t && ortTypeOfOnnx(t.elemType)) ?? (i.data instanceof Int32Array ? 'int32' : 'float32'));
  }
  return types;
}


/**
 * Trace one ONNX model. `modelBytes` is the `.onnx` file; `inputs` name every model input. The
 * caller owns `ort` (and has set `env` up: wasm paths, threads); every session exray creates is
 * released before this returns. The whole trace is held in memory: `streamOnnx` only emits events.
 */
export async function traceOnnx(ort: OrtModule, modelBytes: Uint8Array, inputs: OrtInput[], options: TraceOnnxOptions): Promise<Trace> {
  const builder = new TraceBuilder();
  await streamOnnx(ort, modelBytes, inputs, { ...options, onEvent: (e) => {
    builder.push(e);
    options.onEvent?.(e);
  } });
  return builder.finish();
}

/**
 * Trace one ONNX model as events only (`options.onEvent`): nothing is kept here beyond one pass's
 * outputs, so a consumer that writes blobs as they come (src/trace/file-writer.ts) holds one tensor at
 * a time. A failure after run-start emits `run-error`, then throws.
 */
export async function streamOnnx(ort: OrtModule, modelBytes: Uint8Array, inputs: OrtInput[], options: TraceOnnxOptions): Promise<void> {
  const modelFile = options.modelFile ?? options.modelName ?? 'model.onnx';
  const requested = options.capture ?? 'stats';
  const runs = Math.max(1, options.runs ?? 5);
  const warmup = Math.max(0, options.warmup ?? 1);
  const bins = options.histogramBins ?? 32;
  const ep = options.executionProvider;
  const profiler = defaultProfiler(ort, options);
  const baseOptions: OrtSessionOptions = { ...options.sessionOptions, executionProviders: [ep] };
  // Capture runs see the graph as written: onnxruntime's fusions depend on which values are graph
  // outputs, so with them on, a node's value would depend on what else its pass exposes (a Conv fused
  // with its BatchNormalization in one pass, not in another) and stitched passes would not agree.
  // Each capture session runs once: no arena or memory pattern kept for later runs (on a 1024² model
  // they cost about the size of all activations again, and would sit beside the exposed outputs).
  const captureOptions: OrtSessionOptions = { ...baseOptions, graphOptimizationLevel: 'disabled', enableCpuMemArena: false, enableMemPattern: false };
  const budget = options.maxMemoryBytes ?? defaultPageBudget();
  const warnings: string[] = [];

  const model = decodeOnnx(modelBytes, modelFile);
  const info = describeOnnx(model);
  for (const spec of info.inputs) {
    if (!inputs.some((i) => i.name === spec.name)) throw new RangeError(`no tensor given for model input "${spec.name}" (got ${inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  const types = inputTypes(info, inputs);
  // Nodes inside If / Loop / Scan bodies are recorded too, named where they sit (`If_0/then/Conv_3`).
  const bodies = describeBodies(model.graph!, info);
  const allNodes = withBodies(info, bodies);
  const selection = options.nodes;
  const selected = selection ? allNodes.filter((n) => selection.test(n.name)) : allNodes;
  if (selection && requested !== 'timing' && selected.length === 0) {
    throw new RangeError(`--nodes ${selection.text} matches none of the model's ${allNodes.length} nodes (e.g. ${allNodes.slice(0, 3).map((n) => n.name).join(', ')})`);
  }
  const selectedNames = new Set(selected.map((n) => n.name));
  const graphOutputs = new Set(info.outputs.map((o) => o.name));
  const inputElements = new Map(inputs.map((i) => [i.name, i.data.length]));
  // Sizes the model states need no run: they decide the timing sessions' memory pattern (session-options.ts)
  // and refuse, before any run, a node over the budget alone.
  const declared = estimateSizes(info, [], [], inputElements, new Map(), allNodes);
  const timingSession = timingSessionOptions(baseOptions, valuesBytes(declared), budget);
  const timingOptions = timingSession.options;
  if (timingSession.note) warnings.push(timingSession.note);

  // Sessions first: a model the runtime cannot load fails before anything is emitted; a rewritten model
  // it cannot load makes this a timing-only trace, which run-start must already say. The session that
  // exposes every selected output is kept for a one-pass capture, released when the budget needs more.
  const plainSession = await createSession(ort, modelBytes, timingOptions);
  const sessions: OrtSession[] = [plainSession];
  let captureSession: OrtSession | undefined;
  let exposedWarnings: string[] = [];
  let exposedValues = new Set<string>();
  let exposed: CaptureModel | undefined;
  // Body values climb out through their control-flow nodes; when the runtime refuses that rewrite,
  // the capture falls back to the main graph's outputs (the trace says so).
  let climbBodies = bodies.length > 0;
  let capture: CaptureMode = requested;
  let started = false;
  let ended = false;
  const emit = (e: TraceEvent): void => {
    if (e.type === 'run-end' || e.type === 'run-error') ended = true;
    options.onEvent?.(e);
  };
  try {
    if (requested !== 'timing') {
      exposed = exposeForCapture(model, info, bodies, selection ? selectedNames : undefined, climbBodies);
      const base = graphOutputCost(info, declared);
      for (const n of selected) {
        if (n.outputs.every((v) => declared.get(v)?.from === 'value_info')) nextPass([n], 0, declared, exposed.exposedValues, base, budget);
      }
      try {
        try {
          captureSession = await createSession(ort, encodeOnnx(exposed.model), captureOptions);
        } catch (e) {
          if (!climbBodies) throw e;
          climbBodies = false;
          warnings.push(`${options.runtime} (${ep}) cannot load the model rewritten to expose values inside subgraphs (${(e as Error).message}): nodes inside subgraphs have no values`);
          exposed = exposeForCapture(model, info, bodies, selection ? selectedNames : undefined, false);
          captureSession = await createSession(ort, encodeOnnx(exposed.model), captureOptions);
        }
        sessions.push(captureSession);
      } catch (e) {
        capture = 'timing';
        warnings.push(`${options.runtime} (${ep}) cannot load the rewritten model that exposes every node output (${(e as Error).message}); this trace has the timing pass only`);
      }
      exposedWarnings = exposed.warnings;
      exposedValues = exposed.exposedValues;
    }

    // ---- run start: identity, environment and the exact input ------------------------------------
    const [start, ...inputBlobs] = runStartEvents(ort, info, inputs, options, { capture, nodeCount: allNodes.length, sessionOptions: timingOptions, bins });
    emit(start!);
    started = true;
    for (const b of inputBlobs) emit(b);

    let total = 1 + warmup + runs + (profiler ? 1 : 0) + (capture === 'timing' ? 0 : 1);
    let done = 0;
    const progress = (phase: string): void => emit({ type: 'progress', phase, done: done++, total });

    // ---- 1: cold run, warm-up, timed plain runs (unmodified model) -----------------------------------
    const plain = new OrtRunner(ort, plainSession, inputs, types);
    progress('cold run');
    const first = await plain.timedRun();
    disposeAll(first.outputs);
    for (let i = 0; i < warmup; i++) {
      progress('warm-up');
      disposeAll((await plain.timedRun()).outputs);
    }
    const runMs: number[] = [];
    let finalOutputs: Record<string, OrtTensor> | undefined;
    for (let i = 0; i < runs; i++) {
      progress('timed runs');
      const r = await plain.timedRun();
      runMs.push(r.ms);
      disposeAll(finalOutputs);
      finalOutputs = r.outputs;
    }
    emit({ type: 'timing', timing: { warmupRuns: warmup, runMs, medianMs: median(runMs), firstRunMs: first.ms } });
    const plainValues = new Map<string, TensorValues>();
    for (const [name, t] of Object.entries(finalOutputs ?? {})) plainValues.set(name, tensorValues(t));
    disposeAll(finalOutputs);

    // ---- 2: timing pass: kernel times from the profiler, mapped to nodes ---------------------------
    let raw: RawKernel[] = [];
    if (profiler?.ownSession) {
      // The profiler runs its own session: the plain one (and its arena) goes first, so the two never
      // hold their working memory at once.
      await plainSession.release();
      sessions.splice(sessions.indexOf(plainSession), 1);
    }
    if (profiler) {
      progress('timing pass');
      try {
        raw = await timingPass(ort, modelBytes, timingOptions, profiler, plain, inputs, types);
        if (raw.length === 0) warnings.push(`the ${profiler.clock} profiler recorded no kernel for the profiled run`);
      } catch (e) {
        if (e instanceof OrtLoadError) warnings.push(`${options.runtime} (${ep}) cannot create a profiling session (${e.message}): no kernel times`);
        else warnings.push(`kernel times unavailable: ${(e as Error).message}`);
      } finally {
        await profiler.dispose?.();
      }
    } else {
      warnings.push(`${options.runtime} (${ep}): exray has no kernel timer for this execution provider; the trace has whole-run times only`);
    }
    if (sessions.includes(plainSession)) {
      await plainSession.release();
      sessions.splice(sessions.indexOf(plainSession), 1);
    }

    const mapped = kernelRecords(raw, allNodes, info.nodes, profiler?.clock ?? 'unavailable');
    const { owners, kernelsOf } = mapped;
    warnings.push(...mapped.warnings);
    for (const k of mapped.kernels) emit({ type: 'kernel', kernel: k });

    // ---- 3: capture pass(es) on rewritten models ---------------------------------------------------
    const keep = capture === 'tensors';
    const approximate: string[] = [];
    const record = (node: string, k: number, v: TensorValues, stats: TensorStats | undefined, forceBlob: boolean): TensorRecord => {
      const rec: TensorRecord = { shape: v.shape, dtype: v.dtype };
      if (!v.data) return rec;
      if (v.approximate) approximate.push(node);
      rec.stats = stats ?? computeStats(v.data, bins);
      if (keep || forceBlob) {
        const id = blobIdFor(node, k);
        rec.blob = { id, encoding: v.data instanceof Int32Array ? 'int32' : 'float32', length: v.data.length };
        emit({ type: 'blob', id, data: v.data });
      }
      return rec;
    };
    // The unmodified model's outputs (a trace's outputs always carry values: one without numeric values,
    // strings, is left out). Recorded (blobs emitted) once the first capture pass has been checked
    // against them, so later passes do not hold them.
    let outputs: NamedTensor[] | undefined;
    const recordOutputs = (): NamedTensor[] => {
      if (outputs) return outputs;
      outputs = [];
      for (const [k, o] of info.outputs.entries()) {
        const v = plainValues.get(o.name);
        if (v?.data) outputs.push({ name: o.name, ...record(`output:${o.name}`, k, v, undefined, true) });
        else warnings.push(`model output ${o.name} has no numeric values (${v ? v.dtype : 'not returned'}): not in the trace's outputs`);
      }
      plainValues.clear();
      return outputs;
    };
    /** Node name → its outputs' records (values read), filled pass by pass; small (no values). */
    const captured = new Map<string, (TensorRecord | undefined)[]>();
    /** Body node name → its NodeRecord.note (not run on this input, stacked per iteration, not exposed). */
    const notes = new Map<string, string>();
    // Node rows in execution order (body nodes before their control-flow node), each emitted once final.
    const nodeRecs = new NodeRecordStream(allNodes, info, raw, kernelsOf, captured, notes, (node) => emit({ type: 'node', node }));
    let capturePlan: CapturePlan | undefined;
    if (captureSession) {
      const measured = new Map<string, ValueSize>();
      const sizesFrom = new Map<string, number>();
      let sizes = estimateSizes(info, raw, owners, inputElements, measured, allNodes);
      const base = graphOutputCost(info, sizes);
      let plan = nextPass(selected, 0, sizes, exposedValues, base, budget);
      const onePass = plan.end === selected.length;
      if (!onePass) {
        // The all-outputs session would not fit: each pass gets a session of its own.
        await captureSession.release();
        sessions.splice(sessions.indexOf(captureSession), 1);
        captureSession = undefined;
      }
      let from = 0;
      let pass = 0;
      let largestPassBytes = 0;
      const overBudget: string[] = [];
      const finals = new FinalOutputsCheck(info);
      let failed: string | undefined;
      let retry = false;
      while (from < selected.length) {
        if (pass > 0) {
          sizes = estimateSizes(info, raw, owners, inputElements, measured, allNodes);
          plan = nextPass(selected, from, sizes, exposedValues, base, budget);
        }
        const passNodes = selected.slice(from, plan.end);
        for (const n of passNodes) {
          for (const v of n.outputs) if (exposedValues.has(v) || graphOutputs.has(v)) sizesFrom.set(sizes.get(v)?.from ?? 'inputs', (sizesFrom.get(sizes.get(v)?.from ?? 'inputs') ?? 0) + 1);
        }
        largestPassBytes = Math.max(largestPassBytes, plan.bytes);
        pass++;
        if (!onePass) total++;
        progress(onePass ? 'capture pass' : `capture pass ${pass} (nodes ${from + 1}–${plan.end} of ${selected.length})`);
        let session = captureSession;
        let passExposure = exposed!;
        try {
          if (!session) {
            const names = new Set(passNodes.map((n) => n.name));
            passExposure = exposeForCapture(model, info, bodies, names, climbBodies);
            session = await createSession(ort, encodeOnnx(passExposure.model), captureOptions);
            sessions.push(session);
          }
          // The statistics threads start while the run is under way (the capture run is not timed).
          options.statsPool?.warm();
          const outs: Record<string, OrtTensor | undefined> = await new OrtRunner(ort, session, inputs, types).run();
          finals.check(pass, outs, plainValues);
          if (pass === 1) recordOutputs();
          const read = await readPassNodes(passNodes, outs, passExposure.bodies, {
            info, graphOutputs, measured, captured, notes, record, bins,
            ...(options.statsPool ? { pool: options.statsPool } : {}),
            onRead: (n) => nodeRecs.through(n.name),
          });
          disposeAll(outs as Record<string, OrtTensor>);
          const actual = read.bytes + base.bytes + Math.max(read.largest, base.largest);
          if (actual > budget) overBudget.push(`pass ${pass}: ${formatBytes(actual)}`);
        } catch (e) {
          if (e instanceof CaptureBudgetError || e instanceof CaptureReadError) throw e;
          // A Loop body value whose shape changes between iterations cannot be stacked: onnxruntime fails
          // the run. The pass runs again with the main graph's outputs only (nothing was read from this run).
          if (climbBodies && passExposure.bodies) {
            climbBodies = false;
            retry = true;
            warnings.push(`${options.runtime} (${ep}) cannot run the model rewritten to expose values inside subgraphs (${(e as Error).message}): nodes inside subgraphs have no values`);
          } else {
            failed = (e as Error).message;
          }
        } finally {
          if (session) {
            await session.release();
            sessions.splice(sessions.indexOf(session), 1);
          }
          captureSession = undefined;
        }
        if (!onePass) options.afterPass?.();
        if (failed !== undefined) break;
        if (retry) {
          retry = false;
          pass--;
          continue;
        }
        from = plan.end;
      }
      if (failed !== undefined) {
        warnings.push(
          `${options.runtime} (${ep}) cannot run the rewritten model that exposes ${pass > 1 ? `the nodes of capture pass ${pass}` : 'every node output'} (${failed}); ${captured.size > 0 ? `${captured.size} node(s) from earlier passes have values, the others none` : 'nodes have no values'}, the timing pass is kept`,
        );
      } else {
        warnings.push(...exposedWarnings);
      }
      warnings.push(...finals.warnings());
      if (overBudget.length > 0) {
        warnings.push(`capture pass(es) used more than the memory budget of ${formatBytes(budget)} (${overBudget.join(', ')}): output sizes were estimated below what the runtime returned`);
      }
      const fromText = [...sizesFrom].map(([k, c]) => `${k} ${c}`).join(', ');
      capturePlan = {
        passes: pass,
        maxMemoryBytes: budget,
        largestPassBytes,
        sizesFrom: Object.fromEntries(sizesFrom),
        ...(selection ? { nodes: selection.text } : {}),
        capturedNodes: captured.size,
        reason:
          pass === 1
            ? `every selected output fits the budget of ${formatBytes(budget)} in one run (${formatBytes(largestPassBytes)}; sizes from ${fromText})`
            : `exposing every selected output at once needs more than the budget of ${formatBytes(budget)}: ${pass} runs of the same input, each exposing a consecutive subset of the nodes (largest ${formatBytes(largestPassBytes)}; sizes from ${fromText})`,
      };
    }

    // ---- the nodes no pass read (not selected, a failed pass, a timing-only trace) ---------------------
    nodeRecs.rest();
    const shapeless = nodeRecs.warning();
    if (shapeless) warnings.push(shapeless);
    if (selection && capture !== 'timing') {
      warnings.push(`--nodes ${selection.text}: ${selected.length} of ${allNodes.length} nodes captured; the others were not exposed and have no values`);
    }
    if (approximate.length > 0) {
      warnings.push(`int64 values outside the int32 range are stored as float32 (approximate) for: ${[...new Set(approximate)].slice(0, 20).join(', ')}`);
    }

    // ---- run end: the unmodified model's outputs ------------------------------------------------------
    emit({ type: 'run-end', outputs: recordOutputs(), warnings, ...(capturePlan ? { capturePlan } : {}) });
  } catch (e) {
    if (started && !ended) emit({ type: 'run-error', message: (e as Error).message });
    throw e;
  } finally {
    for (const s of sessions) await s.release().catch(() => undefined);
  }
}
