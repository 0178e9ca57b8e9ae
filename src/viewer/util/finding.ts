/**
 * Issue 12 item 7: one finding, two nodes. The node where the error enters (the first node beyond
 * tolerance, from the comparison) and the node with the largest own error (from the single-node
 * replays) are often different; these say which is which, in the same words everywhere.
 */
import type { NodeAttribution } from '../../diagnose/index.ts';
import type { TensorMetrics, TopKAgreement } from '../../compare/index.ts';
import { fmtErr } from './format.ts';

export interface LargestOwn {
  node: string;
  own: number;
}

/** The replayed node with the largest own error (edge vs its replay on the edge's inputs); null without replays. */
export function largestOwnError(nodes: readonly NodeAttribution[]): LargestOwn | null {
  let best: LargestOwn | null = null;
  for (const a of nodes) if (a.own !== null && Number.isFinite(a.own) && (best === null || a.own > best.own)) best = { node: a.node, own: a.own };
  return best;
}

/**
 * `error enters at X (first node beyond tolerance); largest own error at Y (replayed alone, own nrmse Z)`,
 * or `…; X also has the largest own error …` when they are the same node. Empty when neither is known.
 */
export function findingText(enters: string | null, largest: LargestOwn | null): string {
  const parts: string[] = [];
  if (enters) parts.push(`error enters at ${enters} (first node beyond tolerance)`);
  if (largest) {
    const own = `replayed alone, own nrmse ${fmtErr(largest.own)}`;
    parts.push(largest.node === enters ? `the same node has the largest own error (${own})` : `largest own error at ${largest.node} (${own})`);
  }
  return parts.join('; ');
}

/**
 * Issue 12 item 9: top-k means something only for class scores: a card that says so (a
 * `classification` output) or labels on the entries. Otherwise (a model without a card: an embedding,
 * a feature map) the output is compared as a tensor.
 */
export function topKMeaningful(t: TopKAgreement, cardSaysClassScores: boolean): boolean {
  return cardSaysClassScores || t.edge.some((e) => e.label !== null) || t.ref.some((e) => e.label !== null);
}

/** `no labels: output compared as a tensor (cosine 0.99998, nrmse 1.2e-3)`. */
export function tensorOutputText(m: TensorMetrics | null, noLabels: boolean): string {
  const how = m ? ` (cosine ${Number.isFinite(m.cosine) ? m.cosine.toFixed(5) : '–'}, nrmse ${fmtErr(m.nrmse)})` : '';
  return `${noLabels ? 'no labels: ' : ''}output compared as a tensor${how}`;
}
