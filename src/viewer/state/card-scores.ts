/**
 * Scores a run's final outputs give, per the card: a `classification` output with a single label is
 * one probability per item (Silero VAD's `output`: the probability the frame is speech). The summary
 * shows its value for each run.
 */
import type { ModelCard } from '../../models/card-schema.ts';
import type { Trace } from '../../trace/types.ts';

export interface ScoreOutput {
  name: string;
  label: string;
}

/** The card's single-label classification outputs. */
export function scoreOutputs(card: ModelCard | null): ScoreOutput[] {
  return (card?.outputs ?? []).flatMap((o) => (o.meaning === 'classification' && o.labels?.length === 1 ? [{ name: o.name, label: o.labels[0]! }] : []));
}

/** The first value of that output in a finished trace, or null. */
export function scoreOf(trace: Trace, o: ScoreOutput): number | null {
  const out = trace.header.outputs.find((x) => x.name === o.name || x.name === `${o.name}:0`);
  const values = out?.blob ? trace.blobs.get(out.blob.id) : undefined;
  const v = values?.[0];
  return v === undefined ? null : v;
}
