/**
 * Text read by an OCR recogniser, per run: the card's CTC output (an output with labels whose decoding
 * says CTC) decoded greedily (src/onnx/ctc.ts) from the run's final output values.
 */
import type { ModelCard } from '../../models/card-schema.ts';
import { ctcGreedyDecodeBatch, type CtcDecoded } from '../../onnx/ctc.ts';
import type { Trace } from '../../trace/types.ts';

/** The card's CTC output, if it has one. */
export function ctcOutput(card: ModelCard | null): { name: string; labels: string[] } | null {
  const o = card?.outputs.find((x) => x.labels && /\bCTC\b/.test(x.decoding ?? ''));
  return o?.labels ? { name: o.name, labels: o.labels } : null;
}

const cache = new WeakMap<Trace, CtcDecoded | { error: string }>();

/** The first line's decoded text of a finished run, or why there is none. */
export function decodeRunText(trace: Trace, card: ModelCard | null): CtcDecoded | { error: string } | null {
  const ctc = ctcOutput(card);
  if (!ctc) return null;
  const hit = cache.get(trace);
  if (hit) return hit;
  let r: CtcDecoded | { error: string };
  const out = trace.header.outputs.find((o) => o.name === ctc.name || o.name === `${ctc.name}:0`) ?? (trace.header.outputs.length === 1 ? trace.header.outputs[0] : undefined);
  const values = out?.blob ? trace.blobs.get(out.blob.id) : undefined;
  if (!out || !values) r = { error: `no values for output ${ctc.name}` };
  else {
    try {
      r = ctcGreedyDecodeBatch(values, out.shape, ctc.labels)[0] ?? { error: 'empty batch' };
    } catch (e) {
      r = { error: e instanceof Error ? e.message : String(e) };
    }
  }
  cache.set(trace, r);
  return r;
}
