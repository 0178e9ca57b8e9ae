/**
 * Diagnosis on the page (issue 5): the pure parts of src/diagnose over the runs the viewer holds.
 * - assertions: the built-ins and the user's (user-assertions.ts) per finished run (`runAssertions`),
 *   with the card's spec and outputs;
 * - causes: per finished edge run vs the reference: the comparison, single-node replays of
 *   `selectReplayNodes` (as many as the CLI: 24 on cpu, 256 on wasm) in a fresh trace worker on the
 *   reference backend, fed with the edge's recorded inputs (`tensors` traces only; started by
 *   `startReplays` when a comparison is made, see session.ts), then `attributeErrors` with the replays
 *   (own vs inherited error) and `diagnose()`. Until the replays are back the causes come from the
 *   two traces alone;
 * - latency: `latencyReport` over every finished run of the model.
 * Results are memoised per trace (and reference revision), so renders stay cheap.
 */
import type { ModelCard } from '../../models/card-schema.ts';
import type { Trace } from '../../trace/types.ts';
import type { Comparison } from '../../compare/index.ts';
import type { ReplayResult } from '../../instrument/common.ts';
import {
  attributeErrors,
  selectReplayNodes,
  diagnose,
  halfFloatEvidence,
  latencyReport,
  runAssertions,
  type AssertionResult,
  type Diagnosis,
  type HalfFloatEvidence,
  type LatencyReport,
} from '../../diagnose/index.ts';
import { cardPreprocess } from '../load/model.ts';
import { replayInWorker } from '../worker/client.ts';
import { payloadOf, referenceModel, replayMax } from './reference-model.ts';
import type { RunState } from './run-state.ts';
import { getState, touch } from './store.ts';
import { userAssertions } from './user-assertions.ts';

const assertionCache = new WeakMap<Trace, { rev: number; comparison: object | null; results: AssertionResult[] }>();

/**
 * Built-in and user assertions of one finished run (the comparison, when there is one, is in the
 * context). A diagnosis against the original photo has its own (with the input search in the context).
 */
export function runAssertionsFor(run: RunState, card: ModelCard | null): AssertionResult[] | null {
  const trace = run.trace;
  if (!trace) return null;
  const user = userAssertions();
  const hit = assertionCache.get(trace);
  if (hit && hit.rev === user.rev && hit.comparison === run.comparison) return hit.results;
  let r: AssertionResult[];
  try {
    r = runAssertions(trace, { spec: cardPreprocess(card), outputs: card?.outputs ?? [], comparison: run.comparison }, user.assertions);
  } catch (e) {
    r = [{ id: 'assertions', description: 'the built-in assertions', ok: false, detail: `threw: ${e instanceof Error ? e.message : String(e)}`, builtin: true }];
  }
  assertionCache.set(trace, { rev: user.rev, comparison: run.comparison, results: r });
  return r;
}

/** Single-node replays of one edge run vs one reference (per comparison). */
export interface RunReplays {
  status: 'running' | 'done' | 'failed' | 'none';
  /** Why there are no replays (`none`, `failed`). */
  note: string | null;
  backend: string;
  nodes: string[];
  results: ReplayResult[];
  /** Wall time of the request (worker start, model load, replays, messaging), ms. */
  ms: number | null;
}

export interface RunDiagnosis {
  diagnosis: Diagnosis;
  half: HalfFloatEvidence;
  /** Divergence origins (node output keys) from the comparison. */
  origins: string[];
  replays: RunReplays;
}

const replayCache = new WeakMap<Comparison, RunReplays>();
/** Replayed nodes per edge trace and reference model (a recomparison replays only new picks). */
const replayedNodes = new WeakMap<Trace, { model: string; byNode: Map<string, ReplayResult> }>();
/** Edge traces whose photo diagnosis replays their nodes itself (photo-diagnosis.ts). */
const photoCovered = new WeakSet<Trace>();

/** The photo diagnosis of `edge` runs its own replays: a comparison against its reference starts none. */
export function replaysDoneByPhotoDiagnosis(edge: Trace): void {
  photoCovered.add(edge);
}

/** One replay worker at a time (two cores; each loads the model). */
let replayQueue: Promise<unknown> = Promise.resolve();

/** The backend replays of this reference run on: its own if cpu or wasm, else the CLI's default. */
function replayBackendOf(ref: Trace): 'cpu' | 'wasm' {
  if (ref.header.model.format === 'onnx') return 'wasm';
  const b = ref.header.runtime.backend;
  return b === 'wasm' ? 'wasm' : 'cpu';
}

/**
 * Start the single-node replays of an edge run against the reference (called when its comparison is
 * made: session.ts). Nothing for a `stats` trace or an agreeing comparison. The result lands in the
 * per-comparison cache and the page re-renders.
 */
export function startReplays(run: RunState, ref: RunState): void {
  const edge = run.trace;
  const refTrace = ref.trace;
  const c = run.comparison;
  if (run.role !== 'edge' || !edge || !refTrace || !c || replayCache.has(c)) return;
  const backend = replayBackendOf(refTrace);
  const entry: RunReplays = { status: 'none', note: null, backend, nodes: [], results: [], ms: null };
  replayCache.set(c, entry);
  if (photoCovered.has(edge)) {
    entry.note = 'the diagnosis against the original photo replays this run';
    return;
  }
  if (edge.header.capture !== 'tensors') {
    entry.note = `a \`${edge.header.capture}\` trace records no node inputs to replay`;
    return;
  }
  const nodes = selectReplayNodes(c, edge, { max: replayMax(backend) });
  entry.nodes = nodes;
  if (nodes.length === 0) {
    entry.note = 'nothing to replay';
    return;
  }
  entry.status = 'running';
  const t0 = performance.now();
  const done = (patch: Partial<RunReplays>): void => {
    replayCache.set(c, { ...entry, ...patch, ms: Math.round(performance.now() - t0) });
    touch();
  };
  replayQueue = replayQueue.then(async () => {
    try {
      const { model } = await referenceModel(refTrace);
      if (refTrace.header.model.sha256 && model.sha256 !== refTrace.header.model.sha256) throw new Error(`the reference trace ran ${refTrace.header.model.name} (sha256 ${refTrace.header.model.sha256.slice(0, 12)}…), which is not loaded`);
      const key = `${model.sha256}:${backend}`;
      let memo = replayedNodes.get(edge);
      if (!memo || memo.model !== key) replayedNodes.set(edge, (memo = { model: key, byNode: new Map() }));
      const todo = nodes.filter((n) => !memo.byNode.has(n));
      if (todo.length > 0) {
        const answer = await replayInWorker(payloadOf(model), edge, { backend, options: getState().options, nodes: todo }).done;
        for (const r of answer.results) memo.byNode.set(r.node, r);
      }
      done({ status: 'done', results: nodes.map((n) => memo.byNode.get(n)!).filter(Boolean) });
    } catch (e) {
      done({ status: 'failed', note: e instanceof Error ? e.message : String(e) });
    }
  });
}

/** The replays of this run's comparison (null before `startReplays`). */
export function replaysFor(run: RunState): RunReplays | null {
  return run.comparison ? (replayCache.get(run.comparison) ?? null) : null;
}

const diagnosisCache = new WeakMap<Trace, { ref: Trace; comparison: object; replays: RunReplays | null; result: RunDiagnosis | { error: string } }>();

const NO_REPLAYS: RunReplays = { status: 'none', note: 'not started', backend: 'cpu', nodes: [], results: [], ms: null };

/** Causes for an edge run vs the reference (null until both traces and the comparison exist). */
export function diagnoseRun(run: RunState, ref: RunState | undefined): RunDiagnosis | { error: string } | null {
  const edge = run.trace;
  const refTrace = ref?.trace;
  const c = run.comparison;
  if (run.role !== 'edge' || !edge || !refTrace || !c) return null;
  const replays = replayCache.get(c) ?? null;
  const hit = diagnosisCache.get(edge);
  if (hit && hit.ref === refTrace && hit.comparison === c && hit.replays === replays) return hit.result;
  let result: RunDiagnosis | { error: string };
  try {
    const attributions = attributeErrors(c, edge, refTrace, replays?.status === 'done' ? replays.results : []);
    const diagnosis = diagnose({ edge, ref: refTrace, comparison: c, attributions, referenceBackend: replays?.status === 'done' ? replays.backend : refTrace.header.runtime.backend });
    result = { diagnosis, half: halfFloatEvidence(edge, refTrace), origins: [...c.divergenceOrigins], replays: replays ?? NO_REPLAYS };
  } catch (e) {
    result = { error: e instanceof Error ? e.message : String(e) };
  }
  diagnosisCache.set(edge, { ref: refTrace, comparison: c, replays, result });
  return result;
}

let latencyCache: { traces: Trace[]; report: LatencyReport | { error: string } } | null = null;

/** Latency guidance over every finished run (reference included). Null with no finished run. */
export function latencyFor(runs: readonly RunState[]): LatencyReport | { error: string } | null {
  const traces = runs.map((r) => r.trace).filter((t): t is Trace => t !== null);
  if (traces.length === 0) return null;
  const prev = latencyCache;
  if (prev && prev.traces.length === traces.length && prev.traces.every((t, i) => t === traces[i])) return prev.report;
  let report: LatencyReport | { error: string };
  try {
    report = latencyReport(traces, { top: 8 });
  } catch (e) {
    report = { error: e instanceof Error ? e.message : String(e) };
  }
  latencyCache = { traces, report };
  return report;
}

/** The selection key (`name:outputIndex`) of a node name in a run's comparison. */
export function nodeKey(run: RunState, node: string): string {
  return run.comparison?.nodes.find((n) => n.name === node && n.edgeIndex !== null)?.key ?? `${node}:0`;
}
