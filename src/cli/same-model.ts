/**
 * Traces of different models (their model sha256 differs) are refused by the commands that put them
 * side by side (`compare`, `latency`, `export --ref`) unless `--allow-different-models`: nodes would be
 * matched by name only, and a quantized or edited copy is then compared as if it were the model.
 */
import { ExrayInputError } from '../errors.ts';
import type { TraceHeader } from '../trace/types.ts';

function who(header: TraceHeader): string {
  const sha = header.model.sha256;
  return `model ${JSON.stringify(header.model.name)} (sha256 ${sha === '' ? 'none' : `${sha.slice(0, 12)}…`})`;
}

/** Throws for the first trace whose model sha256 differs from the first trace's, naming both files and models. */
export function checkSameModel(traces: { file: string; header: TraceHeader }[], allowDifferent = false): void {
  if (allowDifferent || traces.length < 2) return;
  const first = traces[0]!;
  for (const t of traces.slice(1)) {
    if (t.header.model.sha256 === first.header.model.sha256) continue;
    throw new ExrayInputError(
      t.file,
      `ran ${who(t.header)}, but ${first.file} ran ${who(first.header)}: traces of different models are not compared (--allow-different-models matches their nodes by name)`,
    );
  }
}
