/**
 * `npm start`: the main job end to end on a bundled sample model and photo — trace on the edge-like
 * backend (wasm), replay the recorded input on the desktop reference (cpu), compare every node.
 */
import { join } from 'node:path';
import { ExrayInputError } from '../../errors.ts';
import { checkOutputDir } from '../../io/outputs.ts';
import { feedFromTrace } from '../../reference/feed.ts';
import { traceInNode } from '../../reference/trace-node.ts';
import { compareTraces, formatComparisonTable } from '../../compare/index.ts';
import { toPerfetto } from '../../trace/export/perfetto.ts';
import { existsSync } from 'node:fs';
import { writeOutput, writeTrace } from '../io.ts';
import { formatTraceSummary } from '../format.ts';
import { prepareInput } from './trace.ts';
import { outputOptionsFor } from './compare.ts';

export async function demoCommand(opts: { model: string; image: string; out: string }): Promise<void> {
  const model = join('models', opts.model);
  if (!existsSync(join(model, 'model.json'))) throw new ExrayInputError(model, 'sample model not extracted: run `npm run models`');
  await checkOutputDir(opts.out, [model]);
  const say = (s: string): boolean => process.stdout.write(`${s}\n`);
  say(`exray demo: ${opts.model} on ${opts.image}\n`);
  const input = await prepareInput(model, { image: opts.image });
  const edge = await traceInNode({ model, backend: 'wasm', capture: 'tensors', label: 'edge (wasm)', ...input });
  await writeTrace(join(opts.out, 'edge.exray'), edge);
  say(formatTraceSummary(edge, { limit: 5 }));
  say('');
  const ref = await traceInNode({
    model,
    backend: 'cpu',
    capture: 'tensors',
    feed: feedFromTrace(edge, 'edge trace'),
    feedFile: join(opts.out, 'edge.exray'),
    label: 'reference',
    referenceFor: edge.header.id,
    ...(input.source ? { source: input.source } : {}),
    ...(input.preprocess ? { preprocess: input.preprocess } : {}),
  });
  await writeTrace(join(opts.out, 'ref.exray'), ref);
  const c = compareTraces(edge, ref, await outputOptionsFor(edge));
  say(formatComparisonTable(c, { limit: 15 }));
  await writeOutput(join(opts.out, 'compare.json'), JSON.stringify(c, null, 2));
  await writeOutput(join(opts.out, 'edge.perfetto.json'), JSON.stringify(toPerfetto(edge)));
  say(`\nwrote ${join(opts.out, 'edge.exray')}, ref.exray, compare.json, edge.perfetto.json`);
  say(`next: npx exray inspect ${join(opts.out, 'edge.exray')} · npx exray compare ${join(opts.out, 'edge.exray')} ${join(opts.out, 'ref.exray')}`);
}
