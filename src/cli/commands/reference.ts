import { checkOutputFile, modelInputFiles } from '../../io/outputs.ts';
import { checkRunCounts } from '../../limits.ts';
import { locateTraceModel } from '../../models/locate.ts';
import { feedFromTrace } from '../../reference/feed.ts';
import type { NodeBackend } from '../../reference/tfjs-backend.ts';
import { readTrace, writeTrace } from '../io.ts';
import { formatTraceSummary } from '../format.ts';

export interface ReferenceCommandOptions {
  backend: NodeBackend;
  model?: string;
  runs: number;
  warmup: number;
  out: string;
  json?: boolean;
}

export async function referenceCommand(edgeFile: string, opts: ReferenceCommandOptions): Promise<void> {
  checkRunCounts(opts);
  await checkOutputFile(opts.out, [edgeFile, ...(opts.model ? await modelInputFiles(opts.model) : [])]);
  const edge = await readTrace(edgeFile);
  const { name } = edge.header.model;
  // The trace's model name is a label, never a path: the model is the one given, or the known model
  // folder (models/*) whose identity hash is the trace's sha256.
  const model = opts.model ?? (await locateTraceModel(edge, edgeFile));
  if (!opts.model) await checkOutputFile(opts.out, await modelInputFiles(model));
  // Imported here: TF.js loads only once the checks above have passed.
  const { traceInNode } = await import('../../reference/trace-node.ts');
  const trace = await traceInNode({
    model,
    backend: opts.backend,
    capture: 'tensors',
    runs: opts.runs,
    warmup: opts.warmup,
    feed: feedFromTrace(edge, edgeFile),
    feedFile: edgeFile,
    label: 'reference',
    referenceFor: edge.header.id,
    modelName: name,
    ...(edge.header.input.source ? { source: edge.header.input.source } : {}),
    ...(edge.header.input.preprocess ? { preprocess: edge.header.input.preprocess } : {}),
  });
  await writeTrace(opts.out, trace);
  if (opts.json) process.stdout.write(`${JSON.stringify(trace.header, null, 2)}\n`);
  else process.stdout.write(`${formatTraceSummary(trace, { limit: 5 })}\nwrote ${opts.out}\n`);
}
