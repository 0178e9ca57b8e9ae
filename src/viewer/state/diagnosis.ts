/**
 * Diagnosis on the page (issue 5): the pure parts of src/diagnose over the runs the viewer holds.
 * - assertions: the built-ins and the user's (user-assertions.ts) per finished run (`runAssertions`),
 *   with the card's spec and outputs;
 * - causes: per finished edge run vs the reference, from the two traces and their comparison only
 *   (`attributeErrors` without replays: total error per node, no own/inherited split; the Node-only
 *   single-node replay is not run here), then `diagnose()`;
 * - latency: `latencyReport` over every finished run of the model.
 * Results are memoised per trace (and reference revision), so renders stay cheap.
 */
import type { ModelCard } from '../../models/card-schema.ts';
import type { Trace } from '../../trace/types.ts';
import {
  attributeErrors,
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
import type { RunState } from './run-state.ts';
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

export interface RunDiagnosis {
  diagnosis: Diagnosis;
  half: HalfFloatEvidence;
  /** Divergence origins (node output keys) from the comparison. */
  origins: string[];
}

const diagnosisCache = new WeakMap<Trace, { ref: Trace; comparison: object; result: RunDiagnosis | { error: string } }>();

/** Causes for an edge run vs the reference (null until both traces and the comparison exist). */
export function diagnoseRun(run: RunState, ref: RunState | undefined): RunDiagnosis | { error: string } | null {
  const edge = run.trace;
  const refTrace = ref?.trace;
  const c = run.comparison;
  if (run.role !== 'edge' || !edge || !refTrace || !c) return null;
  const hit = diagnosisCache.get(edge);
  if (hit && hit.ref === refTrace && hit.comparison === c) return hit.result;
  let result: RunDiagnosis | { error: string };
  try {
    const attributions = attributeErrors(c, edge, refTrace, []);
    const diagnosis = diagnose({ edge, ref: refTrace, comparison: c, attributions, referenceBackend: refTrace.header.runtime.backend });
    result = { diagnosis, half: halfFloatEvidence(edge, refTrace), origins: [...c.divergenceOrigins] };
  } catch (e) {
    result = { error: e instanceof Error ? e.message : String(e) };
  }
  diagnosisCache.set(edge, { ref: refTrace, comparison: c, result });
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
