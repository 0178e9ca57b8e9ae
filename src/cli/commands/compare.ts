import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareTraces, formatComparisonTable, type Comparison, type CompareOptions } from '../../compare/index.ts';
import type { PrecisionPreset } from '../../compare/tolerance.ts';
import { loadModelCard } from '../../models/card.ts';
import { cardOutputKinds } from '../../models/card-schema.ts';
import { modelCardPath } from '../../models/load-node.ts';
import { findModelBySha256 } from '../../models/locate.ts';
import { ExrayInputError } from '../../errors.ts';
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
  /** The model card to read the outputs from (a model that is not one of the samples). */
  card?: string;
  /** The traced model file or folder: its card (`<stem>.exray.json` or the folder's exray.json) is used. */
  model?: string;
}

/** Where the outputs' card comes from: `--card`, the card beside `--model`, else the sample model's. */
export interface CardSource {
  card?: string;
  model?: string;
}

/**
 * What the model card says about the outputs: the card given (`--card`, or beside `--model`), else the
 * sample model's when the trace's model is one of them:
 * what each output is (so each gets the measure that fits it), which are classifier scores (top-k)
 * and their labels. Without a card every output's kind is guessed (and labelled a guess).
 */
export async function outputOptionsFor(trace: Trace, from: CardSource = {}): Promise<CompareOptions> {
  let card: string | null;
  if (from.card !== undefined || from.model !== undefined) {
    card = await modelCardPath(from.model ?? from.card!, from.card);
    if (card === null) throw new ExrayInputError(from.model!, 'no model card beside it (<stem>.exray.json or exray.json): pass --card, or leave --model out to guess the outputs\' kinds');
  } else {
    // Found by the trace's sha256: its model name is a label, never joined to a path.
    const dir = await findModelBySha256(trace.header.model.sha256, { hint: trace.header.model.name });
    card = dir === null ? null : join(dir, 'exray.json');
    if (card === null || !existsSync(card)) return {};
  }
  const c = await loadModelCard(card);
  // A given card written for another model (or with the runtime's names wrong) would silently leave every output a guess.
  const names = new Set(trace.header.outputs.map((o) => o.name));
  const unknown = c.outputs.filter((o) => !names.has(o.name)).map((o) => o.name);
  if ((from.card !== undefined || from.model !== undefined) && unknown.length > 0) throw new ExrayInputError(card, `outputs ${unknown.join(', ')} are not outputs of the traced model (${[...names].join(', ')})`);
  const classifiers = c.outputs.filter((o) => o.meaning === 'classification');
  const labels = classifiers.find((o) => o.labels)?.labels;
  return { classifierOutputs: classifiers.map((o) => o.name), outputKinds: cardOutputKinds(c), ...(labels ? { labels } : {}) };
}

/**
 * Compares two trace files as `exray compare` does: without `preset`, the tolerance preset matches the
 * traces' precision (CompareOptions.autoPreset).
 */
export async function compareFiles(edgeFile: string, refFile: string, nrmse?: number, preset?: PrecisionPreset, allowDifferentModels = true, cardFrom: CardSource = {}): Promise<Comparison> {
  const [edge, ref] = [await readTrace(edgeFile), await readTrace(refFile)];
  checkSameModel([{ file: edgeFile, header: edge.header }, { file: refFile, header: ref.header }], allowDifferentModels);
  const tolerance = { ...(nrmse !== undefined ? { nrmse } : {}), ...(preset ? { preset } : {}) };
  return compareTraces(edge, ref, {
    ...(await outputOptionsFor(edge, cardFrom)),
    ...(Object.keys(tolerance).length > 0 ? { tolerance } : {}),
    autoPreset: true,
  });
}

export async function compareCommand(edgeFile: string, refFile: string, opts: CompareCommandOptions): Promise<void> {
  const cardFrom = { ...(opts.card !== undefined ? { card: opts.card } : {}), ...(opts.model !== undefined ? { model: opts.model } : {}) };
  const c = await compareFiles(edgeFile, refFile, opts.nrmse, opts.preset, opts.allowDifferentModels === true, cardFrom);
  if (opts.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else process.stdout.write(`${formatComparisonTable(c, { limit: opts.limit })}\n`);
  if (opts.failOnDiverge && c.verdict !== 'ok') process.exitCode = 1;
}
