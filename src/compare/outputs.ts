/**
 * Final outputs: each compared output's kind (card or guess), top-k for class scores and the measure
 * that fits the kind. Used by compareTraces; exported so a caller that knows the card only after the
 * comparison (the page's summary) can describe the same outputs again with it. Pure: no DOM, no Node.
 */

import type { BlobData, TensorRecord, Trace } from '../trace/types.ts';
import { guessOutputKind, type OutputKindInfo, type OutputKindSpec } from './output-kind.ts';
import { outputMeasure } from './output-measure.ts';
import { outputMeasureText } from './output-text.ts';
import { type TopKAgreement, topKAgreement } from './topk.ts';
import type { CompareOptions, NamedTensorComparison, OutputComparison } from './types.ts';

/** The recorded values of a tensor, when present and as long as its shape says. */
function valuesOf(trace: Trace, rec: TensorRecord | undefined): BlobData | null {
  if (!rec?.blob) return null;
  const data = trace.blobs.get(rec.blob.id);
  if (!data) return null;
  const n = rec.shape.reduce((a, b) => a * b, 1);
  return data.length === n ? data : null;
}

/** `name`, `name:0` and `name` without `:0` all find the same card entry (TF.js names outputs both ways). */
function lookup<T>(table: Record<string, T> | undefined, name: string): T | undefined {
  if (!table) return undefined;
  if (Object.hasOwn(table, name)) return table[name];
  const alt = name.endsWith(':0') ? name.slice(0, -2) : `${name}:0`;
  return Object.hasOwn(table, alt) ? table[alt] : undefined;
}

function listed(list: readonly string[], name: string): boolean {
  return list.includes(name) || list.includes(name.endsWith(':0') ? name.slice(0, -2) : `${name}:0`);
}

/** The output's kind: the card's, else `classifierOutputs`, else a guess from the reference values. */
export function outputKindOf(name: string, shape: readonly number[], ref: BlobData | null, opts: Pick<CompareOptions, 'outputKinds' | 'classifierOutputs' | 'labels'>): OutputKindInfo {
  const given: OutputKindSpec | undefined = lookup(opts.outputKinds, name);
  if (given) return { ...given, source: 'given', why: 'card' };
  if (opts.classifierOutputs && listed(opts.classifierOutputs, name)) return { kind: 'scores', source: 'given', why: 'classifier output' };
  const g = guessOutputKind(shape, ref, opts.labels);
  // The card lists its class-score outputs: this one is not among them.
  if (g.kind === 'scores' && opts.classifierOutputs) return { kind: 'other', source: 'guess', why: `${g.why}, but not a classifier output of the card` };
  return g;
}

/**
 * Adds kind, top-k and measure to compared final outputs (NamedTensorComparison from compareTraces,
 * or an existing OutputComparison described again with a card).
 */
export function describeOutputs(edge: Trace, ref: Trace, tensors: readonly NamedTensorComparison[], opts: CompareOptions = {}): OutputComparison[] {
  const k = opts.topK ?? 5;
  return tensors.map((t): OutputComparison => {
    const eRec = edge.header.outputs.find((x) => x.name === t.name);
    const rRec = t.refName === null ? undefined : ref.header.outputs.find((x) => x.name === t.refName);
    const rb = valuesOf(ref, rRec);
    const eb = valuesOf(edge, eRec);
    const kind = outputKindOf(t.name, rRec?.shape ?? eRec?.shape ?? [], rb, opts);
    const comparable = eb !== null && rb !== null && eb.length === rb.length && t.metrics !== null && t.verdict !== 'shape-mismatch';
    let topK: TopKAgreement | null = null;
    if (comparable && kind.kind === 'scores') {
      const valueKind = kind.activation === undefined ? undefined : kind.activation === 'none' ? 'logits' : 'probabilities';
      topK = topKAgreement(eb, rb, k, opts.labels, valueKind);
    }
    const measure = comparable && t.metrics ? outputMeasure(kind, rRec?.shape ?? [], eb, rb, t.metrics, topK) : null;
    return { ...t, topK, kind, measure, measureText: outputMeasureText(kind, measure, t.metrics) };
  });
}
