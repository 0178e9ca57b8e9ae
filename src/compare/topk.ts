/**
 * Top-k agreement of classifier outputs. Pure: no DOM, no Node.
 */

import type { BlobData } from '../trace/types.ts';

export interface TopKEntry {
  /** Class index (position in the last dimension). */
  index: number;
  /** labels[index] when labels were given and long enough, else null. */
  label: string | null;
  /** The raw output value; null when it is NaN or ±Inf. */
  value: number | null;
  /** The value as a probability: as is when `valueKind` is `probabilities`, softmax otherwise; null when not finite. */
  probability: number | null;
}

export interface TopKAgreement {
  /** min(requested k, number of classes). */
  k: number;
  classes: number;
  /**
   * `probabilities` when every finite reference value is in [0, 1] (softmax / sigmoid outputs); `logits`
   * otherwise, in which case probabilities are a float64 softmax of each side. Decided on the reference
   * and applied to both sides, unless the card says which (OutputKindSpec.activation).
   */
  valueKind: 'probabilities' | 'logits';
  edge: TopKEntry[];
  ref: TopKEntry[];
  /** The edge's top-1 class is the reference's top-1 class. */
  top1Equal: boolean;
  /** |edge top-k ∩ reference top-k| (0…k). */
  overlap: number;
  /** Rank (0-based) of the reference's top-1 class among the edge's top-k; null when not in it. */
  refTop1RankInEdge: number | null;
}

/**
 * Indices of the k largest values, descending; ties by lower index; NaN ranks below every number
 * (−Inf included). O(n·k), no sort of the whole array.
 */
export function topKIndices(data: BlobData, k: number): number[] {
  const n = data.length;
  const kk = Math.max(0, Math.min(Math.floor(k), n));
  if (kk === 0) return [];
  // Kept sorted best-first; `nan[p]` marks a NaN entry (ranked below every number, −Inf included).
  const idx: number[] = [];
  const val: number[] = [];
  const nan: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const v = data[i] as number;
    const vNan = v !== v;
    if (idx.length === kk && !better(v, vNan, val[kk - 1] as number, nan[kk - 1] as boolean)) continue;
    if (idx.length === kk) {
      idx.pop();
      val.pop();
      nan.pop();
    }
    let p = idx.length;
    while (p > 0 && better(v, vNan, val[p - 1] as number, nan[p - 1] as boolean)) p--;
    idx.splice(p, 0, i);
    val.splice(p, 0, v);
    nan.splice(p, 0, vNan);
  }
  return idx;
}

/** Strictly better; an equal value is not better, so the earlier index wins ties. */
function better(v: number, vNan: boolean, w: number, wNan: boolean): boolean {
  if (vNan) return false;
  if (wNan) return true;
  return v > w;
}

function isProbabilities(data: BlobData): boolean {
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    if (x - x !== 0) continue;
    if (x < 0 || x > 1) return false;
  }
  return true;
}

/** Float64 softmax normaliser (max and Σexp over finite values); null when there is no finite value. */
function softmaxParams(data: BlobData): { max: number; sum: number } | null {
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    if (x - x === 0 && x > max) max = x;
  }
  if (max === -Infinity) return null;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    if (x - x === 0) sum += Math.exp(x - max);
  }
  return { max, sum };
}

function entries(data: BlobData, indices: number[], kind: 'probabilities' | 'logits', labels: readonly string[] | undefined): TopKEntry[] {
  const sm = kind === 'logits' ? softmaxParams(data) : null;
  return indices.map((index) => {
    const v = data[index] as number;
    const fin = v - v === 0;
    let probability: number | null = null;
    if (fin) probability = kind === 'probabilities' ? v : sm ? Math.exp(v - sm.max) / sm.sum : null;
    return { index, label: labels?.[index] ?? null, value: fin ? v : null, probability };
  });
}

/**
 * Top-k agreement of an edge and a reference classifier output (flat class scores, equal lengths).
 * `valueKind`, when the card says it (softmax / sigmoid applied or not), overrides the guess from the values.
 * @throws RangeError when the lengths differ.
 */
export function topKAgreement(edge: BlobData, ref: BlobData, k = 5, labels?: readonly string[], given?: TopKAgreement['valueKind']): TopKAgreement {
  if (edge.length !== ref.length) throw new RangeError(`topKAgreement: length mismatch (edge ${edge.length}, reference ${ref.length})`);
  const kk = Math.max(0, Math.min(k, ref.length));
  const valueKind = given ?? (isProbabilities(ref) ? 'probabilities' : 'logits');
  const ei = topKIndices(edge, kk);
  const ri = topKIndices(ref, kk);
  const rset = new Set(ri);
  let overlap = 0;
  for (const i of ei) if (rset.has(i)) overlap++;
  const rank = ri.length > 0 ? ei.indexOf(ri[0] as number) : -1;
  return {
    k: kk,
    classes: ref.length,
    valueKind,
    edge: entries(edge, ei, valueKind, labels),
    ref: entries(ref, ri, valueKind, labels),
    top1Equal: ei.length > 0 && ei[0] === ri[0],
    overlap,
    refTop1RankInEdge: rank < 0 ? null : rank,
  };
}
