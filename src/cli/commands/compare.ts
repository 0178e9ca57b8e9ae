import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareTraces, formatComparisonTable, type Comparison, type CompareOptions } from '../../compare/index.ts';
import type { PrecisionPreset } from '../../compare/tolerance.ts';
import { loadModelCard } from '../../models/card.ts';
import { cardOutputKinds } from '../../models/card-schema.ts';
import { findModelBySha256 } from '../../models/locate.ts';
import type { Trace } from '../../trace/types.ts';
import { readTrace } from '../io.ts';
import { checkSameModel } from '../same-model.ts';

export interface CompareCommandOptions {
  json?: boolean;
  failOnDiverge?: boolean;
  nrmse?: number;
  preset?: PrecisionPreset;
  limit: number;
  allowDifferentModels?: boolean;
}

/**
 * What the model card says about the outputs, when the trace's model is one of the sample models:
 * what each output is (so each gets the measure that fits it), which are classifier scores (top-k)
 * and their labels. Without a card every output's kind is guessed (and labelled a guess).
 */
export async function outputOptionsFor(trace: Trace): Promise<CompareOptions> {
  // Found by the trace's sha256: its model name is a label, never joined to a path.
  const dir = await findModelBySha256(trace.header.model.sha256, { hint: trace.header.model.name });
  const card = dir === null ? null : join(dir, 'exray.json');
  if (card === null || !existsSync(card)) return {};
  const c = await loadModelCard(card);
  const classifiers = c.outputs.filter((o) => o.meaning === 'classification');
  const labels = classifiers.find((o) => o.labels)?.labels;
  return { classifierOutputs: classifiers.map((o) => o.name), outputKinds: cardOutputKinds(c), ...(labels ? { labels } : {}) };
}

/**
 * Compares two trace files as `exray compare` does: without `preset`, the tolerance preset matches the
 * traces' precision (CompareOptions.autoPreset).
 */
export async function compareFiles(edgeFile: string, refFile: string, nrmse?: number, preset?: PrecisionPreset, allowDifferentModels = true): Promise<Comparison> {
  const [edge, ref] = [await readTrace(edgeFile), await readTrace(refFile)];
  checkSameModel([{ file: edgeFile, header: edge.header }, { file: refFile, header: ref.header }], allowDifferentModels);
  const tolerance = { ...(nrmse !== undefined ? { nrmse } : {}), ...(preset ? { preset } : {}) };
  return compareTraces(edge, ref, {
    ...(await outputOptionsFor(edge)),
    ...(Object.keys(tolerance).length > 0 ? { tolerance } : {}),
    autoPreset: true,
  });
}

export async function compareCommand(edgeFile: string, refFile: string, opts: CompareCommandOptions): Promise<void> {
  const c = await compareFiles(edgeFile, refFile, opts.nrmse, opts.preset, opts.allowDifferentModels === true);
  if (opts.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else process.stdout.write(`${formatComparisonTable(c, { limit: opts.limit })}\n`);
  if (opts.failOnDiverge && c.verdict !== 'ok') process.exitCode = 1;
}
