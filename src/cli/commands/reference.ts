import { checkOutputFile, modelInputFiles } from '../../io/outputs.ts';
import { checkRunCounts } from '../../limits.ts';
import { locateTraceModel } from '../../models/locate.ts';
import { feedFromTrace } from '../../reference/feed.ts';
import type { NodeBackend } from '../../reference/tfjs-backend.ts';
import { readTrace, rewriteNarrowed } from '../io.ts';
import type { StoragePrecision } from '../../trace/blob-codec.ts';
import { selectionOf, traceInNodeToFile } from '../trace-writer.ts';
import type { CaptureMode } from '../../trace/types.ts';
import { formatTraceSummary } from '../format.ts';

export interface ReferenceCommandOptions {
  backend: NodeBackend;
  model?: string;
  capture: CaptureMode;
  nodes?: string[];
  maxMemory?: number;
  runs: number;
  warmup: number;
  out: string;
  /** `--precision`: how values are stored (default float32, exact). */
  precision?: StoragePrecision;
  json?: boolean;
}

export async function referenceCommand(edgeFile: string, opts: ReferenceCommandOptions): Promise<void> {
  checkRunCounts(opts);
  const nodes = selectionOf(edgeFile, opts.nodes);
  await checkOutputFile(opts.out, [edgeFile, ...(opts.model ? await modelInputFiles(opts.model) : [])]);
  const edge = await readTrace(edgeFile);
  const { name } = edge.header.model;
  // The trace's model name is a label, never a path: the model is the one given, or the known model
  // folder (models/*) whose identity hash is the trace's sha256.
  const model = opts.model ?? (await locateTraceModel(edge, edgeFile));
  if (!opts.model) await checkOutputFile(opts.out, await modelInputFiles(model));
  // TF.js loads only once the checks above have passed; the trace is written as it runs.
  let trace = await traceInNodeToFile(opts.out, {
    model,
    backend: opts.backend,
    capture: opts.capture ?? 'tensors',
    ...(nodes ? { nodes } : {}),
    ...(opts.maxMemory !== undefined ? { maxMemoryBytes: opts.maxMemory } : {}),
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
  if (opts.precision && opts.precision !== 'float32') trace = await rewriteNarrowed(opts.out, opts.precision);
  if (opts.json) process.stdout.write(`${JSON.stringify(trace.header, null, 2)}\n`);
  else process.stdout.write(`${formatTraceSummary(trace, { limit: 5 })}\nwrote ${opts.out}\n`);
}
