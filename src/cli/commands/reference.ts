import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExrayInputError } from '../../errors.ts';
import { feedFromTrace } from '../../reference/feed.ts';
import { modelIdentityHash, traceInNode } from '../../reference/trace-node.ts';
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
  const edge = await readTrace(edgeFile);
  const { name, sha256 } = edge.header.model;
  let model = opts.model;
  if (!model) {
    model = join('models', name);
    if (!existsSync(model)) throw new ExrayInputError(edgeFile, `model "${name}" is not in models/: pass --model <dir>`);
    const hash = await modelIdentityHash(model);
    if (sha256 && hash !== sha256) {
      throw new ExrayInputError(edgeFile, `models/${name} (sha256 ${hash.slice(0, 12)}…) is not the model this trace ran (${sha256.slice(0, 12)}…): pass --model <dir>`);
    }
  }
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
