/**
 * The agent's onnxruntime side, part 3: the model exray's capture session runs, and running it.
 *
 * The same rewrite `exray trace` uses (src/instrument/ort/subgraph-capture.ts): every main-graph node
 * output becomes a graph output, and the values of nodes inside If / Loop / Scan bodies climb out
 * through their control-flow node (src/onnx/expose-subgraphs.ts). When the execution provider refuses
 * that model, or a run of it fails (a Loop body value that changes shape between iterations cannot be
 * stacked), the capture falls back to the main graph's outputs, for this session's later captures
 * too, and every trace says so.
 *
 * Nothing here imports onnxruntime: the session factory and the run come from the caller.
 */
import { decodeOnnx, describeOnnx, encodeOnnx, type OnnxGraphInfo, type OnnxNode } from '../onnx/model.ts';
import { describeBodies, withBodies } from '../onnx/subgraphs.ts';
import type { SubgraphExposure } from '../onnx/expose-subgraphs.ts';
import { exposeForCapture } from '../instrument/ort/subgraph-capture.ts';
import type { OrtTensor } from '../instrument/ort/ort-api.ts';

/** The model as exray's capture session runs it. */
export interface CaptureModel {
  info: OnnxGraphInfo;
  /** Every trace node in execution order: main-graph nodes and the nodes inside their bodies (withBodies). */
  nodes: OnnxNode[];
  /** null: the execution provider refused the rewritten model (`failure` says why). */
  session: unknown;
  failure: string | null;
  /** Where body values come back from a run; null when they are not exposed. */
  bodies: SubgraphExposure | null;
  /** What the rewrite could not expose (non-tensors, body nodes not exposed), and why bodies are not, when they are not. */
  exposedWarnings: string[];
}

/**
 * Parse the model, rewrite it so every node output (bodies included, unless `withBodyValues` is
 * false) comes back from a run, and create a session of it with `create` (the app's original
 * `InferenceSession.create`, the app's options). A model with body values that cannot be created is
 * tried again without them; a session that cannot be created at all is a `failure`, not an error:
 * the capture keeps the inputs and outputs. `why`: a warning every trace of this model carries (why
 * body values are not exposed).
 */
export async function prepareCaptureModel(
  bytes: Uint8Array,
  fileName: string,
  create: (model: Uint8Array) => Promise<unknown>,
  opts: { withBodyValues?: boolean; why?: string; runtime?: string } = {},
): Promise<CaptureModel> {
  const model = decodeOnnx(bytes, fileName);
  const info = describeOnnx(model);
  const bodies = describeBodies(model.graph!, info);
  const nodes = withBodies(info, bodies);
  const notes = opts.why ? [opts.why] : [];
  let climb = (opts.withBodyValues ?? true) && bodies.length > 0;
  for (;;) {
    const exposed = exposeForCapture(model, info, bodies, undefined, climb);
    try {
      const session = await create(encodeOnnx(exposed.model));
      return { info, nodes, session, failure: null, bodies: exposed.bodies, exposedWarnings: [...notes, ...exposed.warnings] };
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      if (!climb) return { info, nodes, session: null, failure: m, bodies: null, exposedWarnings: [...notes, ...exposed.warnings] };
      climb = false;
      notes.push(`${opts.runtime ?? 'onnxruntime'} cannot load the model rewritten to expose values inside subgraphs (${m}): nodes inside subgraphs have no values`);
    }
  }
}

/** How the agent runs and replaces a capture model (its own onnxruntime calls). */
export interface CaptureSessionOps {
  /** One run of `session` on a copy of the app's feeds. */
  run(session: unknown): Promise<Record<string, OrtTensor>>;
  /** Release `model`'s session and make the same model without body values (`why` says why). */
  withoutBodyValues(model: CaptureModel, why: string): Promise<CaptureModel>;
}

/**
 * One run of the capture session, with the warnings its trace carries (what the rewrite could not
 * expose; why nodes have no values). When a model exposing body values fails to run, the model
 * without them replaces it (returned) and runs instead. `outs` is null when no run succeeded.
 */
export async function runCaptureModel(
  model: CaptureModel,
  ops: CaptureSessionOps,
  runtime: string,
): Promise<{ model: CaptureModel; outs: Record<string, OrtTensor> | null; warnings: string[] }> {
  const cannot = (m: CaptureModel, what: string, error: string | null): { model: CaptureModel; outs: null; warnings: string[] } => ({
    model: m,
    outs: null,
    warnings: [`${runtime} cannot ${what} the rewritten model that exposes every node output (${error}): nodes have no values, the trace has the app's inputs and outputs only`],
  });
  if (!model.session) return cannot(model, 'create', model.failure);
  try {
    return { model, outs: await ops.run(model.session), warnings: model.exposedWarnings };
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    if (!model.bodies) return cannot(model, 'run', m);
    const plain = await ops.withoutBodyValues(model, `${runtime} cannot run the model rewritten to expose values inside subgraphs (${m}): nodes inside subgraphs have no values`);
    if (!plain.session) return cannot(plain, 'create', plain.failure);
    try {
      return { model: plain, outs: await ops.run(plain.session), warnings: plain.exposedWarnings };
    } catch (e2) {
      return cannot(plain, 'run', e2 instanceof Error ? e2.message : String(e2));
    }
  }
}
