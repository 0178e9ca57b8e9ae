/**
 * The order in which one round of a side-by-side benchmark runs its variants: a fresh permutation each
 * round (seeded, so a run is repeatable). With a rotating order every variant always runs right after
 * the same other one, so a variant would keep paying for its predecessor's garbage (the 40 MB a tensors
 * capture leaves behind) or profiting from its cache; a fresh order spreads that over all variants.
 * Pure: the Node benchmarks and the browser bench page use it.
 */
export function roundOrder<T>(variants: readonly T[], round: number): T[] {
  const out = [...variants];
  // mulberry32, seeded by the round
  let s = (round + 1) * 0x9e3779b9;
  const next = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
