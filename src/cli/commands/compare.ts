import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareTraces, formatComparisonTable, type Comparison } from '../../compare/index.ts';
import { loadModelCard } from '../../models/card.ts';
import type { Trace } from '../../trace/types.ts';
import { readTrace } from '../io.ts';

export interface CompareCommandOptions {
  json?: boolean;
  failOnDiverge?: boolean;
  nrmse?: number;
  limit: number;
}

/** Class labels from the sample model's card, when the trace's model is one of ours. */
export async function labelsFor(trace: Trace): Promise<string[] | undefined> {
  const card = join('models', trace.header.model.name, 'exray.json');
  if (!existsSync(card)) return undefined;
  const c = await loadModelCard(card);
  return c.outputs.find((o) => o.labels)?.labels;
}

export async function compareFiles(edgeFile: string, refFile: string, nrmse?: number): Promise<Comparison> {
  const [edge, ref] = [await readTrace(edgeFile), await readTrace(refFile)];
  const labels = await labelsFor(edge);
  return compareTraces(edge, ref, {
    ...(nrmse !== undefined ? { tolerance: { nrmse } } : {}),
    ...(labels ? { labels } : {}),
  });
}

export async function compareCommand(edgeFile: string, refFile: string, opts: CompareCommandOptions): Promise<void> {
  const c = await compareFiles(edgeFile, refFile, opts.nrmse);
  if (opts.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
  else process.stdout.write(`${formatComparisonTable(c, { limit: opts.limit })}\n`);
  if (opts.failOnDiverge && c.verdict !== 'ok') process.exitCode = 1;
}
