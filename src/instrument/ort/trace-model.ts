/**
 * traceOnnx: run an ONNX model under instrumentation with onnxruntime (web or node) and produce a
 * trace (and its event stream), in the same format as TF.js traces.
 *
 * Passes, each on the same input:
 *   1. cold run, warm-up and N timed plain runs of the **unmodified** model → whole-inference median;
 *   2. timing pass: one run of the unmodified model under a kernel profiler (ORT session profiler, or
 *      WebGPU timestamps) → every kernel with its time, mapped back to model nodes;
 *   3. capture pass (`stats` / `tensors`): one run of the **rewritten** model whose every node output
 *      is a graph output → every node's values.
 * Exposing outputs changes what onnxruntime fuses, so timing uses the unmodified model, and the
 * rewritten model's final outputs are checked against the unmodified one's (a warning when they differ).
 * When the execution provider cannot create or run the rewritten model, the trace says so and keeps
 * the timing pass only.
 */
import type {
  CaptureMode,
  DType,
  KernelRecord,
  NamedTensor,
  NodeRecord,
  TensorRecord,
  Trace,
  TraceEvent,
} from '../../trace/types.ts';
import { TraceBuilder } from '../../trace/events.ts';
import { computeStats } from '../../trace/stats.ts';
import { blobIdFor, newTraceId } from '../../trace/ids.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, exposeAllOutputs, inputElemType, type OnnxGraphInfo } from '../../onnx/model.ts';
import { dtypeOfOnnx } from '../../onnx/dtypes.ts';
import type { OrtExecutionProvider, OrtModule, OrtRuntimeName, OrtSession, OrtSessionOptions, OrtTensor } from './ort-api.ts';
import { ortVersion } from './ort-api.ts';
import { collectOrtEnvironment } from './environment.ts';
import { consoleProfiler, webgpuProfiler, type KernelProfiler } from './profilers.ts';
import { attributeKernels, subgraphOwners, type RawKernel } from './profile.ts';
import { createSession, disposeAll, OrtLoadError, OrtRunner, timingPass } from './passes.ts';
import { maxAbsDiff, ortTypeOfOnnx, tensorValues, type OrtInput, type TensorValues } from './tensors.ts';
import { median, type TraceRunOptions } from '../common.ts';

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
 * released before this returns.
 */
export async function traceOnnx(ort: OrtModule, modelBytes: Uint8Array, inputs: OrtInput[], options: TraceOnnxOptions): Promise<Trace> {
  const modelFile = options.modelFile ?? options.modelName ?? 'model.onnx';
  const requested = options.capture ?? 'stats';
  const runs = Math.max(1, options.runs ?? 5);
  const warmup = Math.max(0, options.warmup ?? 1);
  const bins = options.histogramBins ?? 32;
  const ep = options.executionProvider;
  const profiler = defaultProfiler(ort, options);
  const baseOptions: OrtSessionOptions = { ...options.sessionOptions, executionProviders: [ep] };
  const warnings: string[] = [];

  const model = decodeOnnx(modelBytes, modelFile);
  const info = describeOnnx(model);
  for (const spec of info.inputs) {
    if (!inputs.some((i) => i.name === spec.name)) throw new RangeError(`no tensor given for model input "${spec.name}" (got ${inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  const types = inputTypes(info, inputs);

  // Sessions first: a model the runtime cannot load fails before anything is emitted; a rewritten model
  // it cannot load makes this a timing-only trace, which run-start must already say.
  const plainSession = await createSession(ort, modelBytes, baseOptions);
  const sessions: OrtSession[] = [plainSession];
  let captureSession: OrtSession | undefined;
  let exposedWarnings: string[] = [];
  let capture: CaptureMode = requested;
  const builder = new TraceBuilder();
  const emit = (e: TraceEvent): void => {
    builder.push(e);
    options.onEvent?.(e);
  };
  let started = false;
  try {
    if (requested !== 'timing') {
      const exposed = exposeAllOutputs(model, info);
      exposedWarnings = exposed.warnings;
      try {
        captureSession = await createSession(ort, encodeOnnx(exposed.model), baseOptions);
        sessions.push(captureSession);
      } catch (e) {
        capture = 'timing';
        warnings.push(`${options.runtime} (${ep}) cannot load the rewritten model that exposes every node output (${(e as Error).message}); this trace has the timing pass only`);
      }
    }

    // ---- run start: identity, environment and the exact input ------------------------------------
    const inputTensors: NamedTensor[] = [];
    const inputBlobs: TraceEvent[] = [];
    for (const spec of info.inputs) {
      const given = inputs.find((i) => i.name === spec.name)!;
      const id = blobIdFor(`input:${spec.name}`, 0);
      inputBlobs.push({ type: 'blob', id, data: given.data });
      inputTensors.push({
        name: spec.name,
        shape: [...given.shape],
        dtype: spec.dtype,
        stats: computeStats(given.data, bins),
        blob: { id, encoding: given.data instanceof Int32Array ? 'int32' : 'float32', length: given.data.length },
      });
    }
    emit({
      type: 'run-start',
      id: newTraceId(),
      createdAt: new Date().toISOString(),
      ...(options.label ? { label: options.label } : {}),
      capture,
      model: {
        name: options.modelName ?? 'model',
        format: 'onnx',
        sha256: options.modelSha256 ?? '',
        inputs: info.inputs,
        outputs: info.outputs,
        nodeCount: info.nodes.length,
      },
      runtime: { name: options.runtime, version: ortVersion(ort, options.runtime), backend: ep },
      environment: collectOrtEnvironment(ort, options.runtime, ep, baseOptions, options.environment),
      input: {
        tensors: inputTensors,
        ...(options.source ? { source: options.source } : {}),
        ...(options.preprocess ? { preprocess: options.preprocess } : {}),
      },
      ...(options.referenceFor ? { referenceFor: options.referenceFor } : {}),
    });
    started = true;
    for (const b of inputBlobs) emit(b);

    const total = 1 + warmup + runs + (profiler ? 1 : 0) + (capture === 'timing' ? 0 : 1);
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
    if (profiler) {
      progress('timing pass');
      try {
        raw = await timingPass(ort, modelBytes, baseOptions, profiler, plain, inputs, types);
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
    await plainSession.release();
    sessions.splice(sessions.indexOf(plainSession), 1);

    const owners = attributeKernels(raw, info.nodes);
    const kernelsOf = new Map<string, number[]>();
    const kernels: KernelRecord[] = raw.map((k, i) => {
      const node = owners[i] ?? null;
      if (node !== null) kernelsOf.set(node, [...(kernelsOf.get(node) ?? []), i]);
      return {
        index: i,
        name: k.op,
        node,
        ms: k.ms,
        clock: k.clock ?? profiler?.clock ?? 'unavailable',
        inputShapes: k.inputShapes,
        outputShapes: k.outputShapes,
      };
    });
    const inSubgraph = subgraphOwners(raw, info.nodes);
    const bySubgraph = new Map<string, Map<string, number>>();
    raw.forEach((k, i) => {
      const o = owners[i] === null ? inSubgraph[i] : null;
      if (!o) return;
      const ops = bySubgraph.get(o) ?? new Map<string, number>();
      ops.set(k.op, (ops.get(k.op) ?? 0) + 1);
      bySubgraph.set(o, ops);
    });
    for (const [o, ops] of bySubgraph) {
      const count = [...ops.values()].reduce((a, b) => a + b, 0);
      warnings.push(
        `${count} kernel(s) ran inside the subgraphs of ${o}; they are recorded with node null, their time is part of ${o}'s own kernel: ${[...ops].map(([op, c]) => `${op} ×${c}`).join(', ')}`,
      );
    }
    const unattributed = raw.filter((_, i) => owners[i] === null && !inSubgraph[i]);
    if (unattributed.length > 0) {
      const byOp = new Map<string, string[]>();
      for (const k of unattributed) byOp.set(k.op, [...(byOp.get(k.op) ?? []), k.ortName || '(unnamed)']);
      const parts = [...byOp].map(([op, names]) => `${op} ×${names.length} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`);
      warnings.push(`${unattributed.length} kernel(s) belong to no model node: onnxruntime inserted them (layout reorders, copies) or exray could not map their names back: ${parts.join('; ')}`);
    }
    for (const k of kernels) emit({ type: 'kernel', kernel: k });

    // ---- 3: capture pass on the rewritten model -----------------------------------------------------
    let captured: Map<string, TensorValues> | undefined;
    if (captureSession) {
      progress('capture pass');
      try {
        const runner = new OrtRunner(ort, captureSession, inputs, types);
        const outs = await runner.run();
        captured = new Map();
        for (const [name, t] of Object.entries(outs)) captured.set(name, tensorValues(t));
        disposeAll(outs);
        warnings.push(...exposedWarnings);
      } catch (e) {
        warnings.push(`${options.runtime} (${ep}) cannot run the rewritten model that exposes every node output (${(e as Error).message}); nodes have no values, the timing pass is kept`);
      }
      await captureSession.release();
      sessions.splice(sessions.indexOf(captureSession), 1);
    }

    if (captured) {
      const differing: string[] = [];
      for (const [name, v] of plainValues) {
        const c = captured.get(name);
        if (!c?.data || !v.data) continue;
        if (c.data.length !== v.data.length) differing.push(`${name} (shape [${c.shape}] vs [${v.shape}])`);
        else {
          const d = maxAbsDiff(c.data, v.data);
          if (!(d === 0)) differing.push(`${name} (max |Δ| ${d.toPrecision(3)})`);
        }
      }
      if (differing.length > 0) {
        warnings.push(
          `the rewritten model (every node output exposed) gives different final outputs than the unmodified model: ${differing.join(', ')}; onnxruntime optimises the two graphs differently (fusions), node values come from the rewritten one, the trace's outputs from the unmodified one`,
        );
      }
    }

    // ---- nodes, in topological order ------------------------------------------------------------------
    const keep = capture === 'tensors';
    const approximate: string[] = [];
    let shapeless = 0;
    const record = (node: string, k: number, v: TensorValues, withValues: boolean, forceBlob: boolean): TensorRecord => {
      const rec: TensorRecord = { shape: v.shape, dtype: v.dtype };
      if (!withValues || !v.data) return rec;
      if (v.approximate) approximate.push(node);
      rec.stats = computeStats(v.data, bins);
      if (keep || forceBlob) {
        const id = blobIdFor(node, k);
        emit({ type: 'blob', id, data: v.data });
        rec.blob = { id, encoding: v.data instanceof Int32Array ? 'int32' : 'float32', length: v.data.length };
      }
      return rec;
    };
    const kernelList = (name: string): number[] => kernelsOf.get(name) ?? [];
    // onnxruntime-node's CPU EP may run parts of the graph in a blocked layout (NCHWc: 5-D tensors between
    // ReorderInput and ReorderOutput kernels); the profiler then reports blocked shapes, not the model's.
    const relaidOut = raw.some((r) => r.op === 'ReorderInput' || r.op === 'ReorderOutput');
    info.nodes.forEach((n, index) => {
      const ks = kernelList(n.name);
      const outputs = n.outputs.map((v, k): TensorRecord => {
        const got = captured?.get(v);
        if (got) return record(n.name, k, got, true, false);
        const t = info.valueTypes.get(v);
        // No values: the shape the profiler saw when this node ran as itself (a kernel named after it, of
        // its op: a fused or re-laid-out kernel's shapes are not the node's), else a static declared one.
        const own = relaidOut ? undefined : ks.map((i) => raw[i]!).find((r) => r.ortName === n.protoName && r.op === n.op);
        const fromKernel = own?.outputShapes[k];
        const declared = t?.shape && t.shape.every((d) => d !== null) ? (t.shape as number[]) : undefined;
        const shape = fromKernel ?? declared;
        if (!shape) shapeless++;
        return { shape: shape ?? [], dtype: t && t.kind === 'tensor' ? dtypeOfOnnx(t.elemType) : ('float32' as DType) };
      });
      const rec: NodeRecord = { index, name: n.name, op: n.op, kernels: ks, outputs, inputs: n.producers };
      emit({ type: 'node', node: rec });
    });
    if (shapeless > 0) {
      warnings.push(
        `${shapeless} node output(s) have no recorded shape (no values, and neither the model nor the profiler gives one${relaidOut ? ': onnxruntime ran parts of the graph in a blocked layout (NCHWc), so profiler shapes are not the model\'s' : ''}): recorded as []`,
      );
    }
    if (approximate.length > 0) {
      warnings.push(`int64 values outside the int32 range are stored as float32 (approximate) for: ${[...new Set(approximate)].slice(0, 20).join(', ')}`);
    }

    // ---- run end: the unmodified model's outputs ------------------------------------------------------
    // A trace's outputs always carry values: an output without numeric values (strings) is left out.
    const outputs: NamedTensor[] = [];
    info.outputs.forEach((o, k) => {
      const v = plainValues.get(o.name);
      if (v?.data) outputs.push({ name: o.name, ...record(`output:${o.name}`, k, v, true, true) });
      else warnings.push(`model output ${o.name} has no numeric values (${v ? v.dtype : 'not returned'}): not in the trace's outputs`);
    });
    emit({ type: 'run-end', outputs, warnings });
    return builder.finish();
  } catch (e) {
    if (started && builder.state === 'running') emit({ type: 'run-error', message: (e as Error).message });
    throw e;
  } finally {
    for (const s of sessions) await s.release().catch(() => undefined);
  }
}
