import { ExrayInputError } from '../../errors.ts';
import { checkOutputFiles } from '../../io/outputs.ts';
import { toPerfetto } from '../../trace/export/perfetto.ts';
import { toModelExplorerNodeData } from '../../trace/export/model-explorer.ts';
import type { NodeRecord } from '../../trace/types.ts';
import { compareTraces } from '../../compare/index.ts';
import { readTrace, writeOutput } from '../io.ts';
import { checkSameModel } from '../same-model.ts';

export interface ExportCommandOptions {
  perfetto?: string;
  modelExplorer?: string;
  metric: 'ms' | 'mean' | 'std' | 'max' | 'nrmse' | 'maxAbs';
  ref?: string;
  allowDifferentModels?: boolean;
}

export async function exportCommand(file: string, opts: ExportCommandOptions): Promise<void> {
  if (!opts.perfetto && !opts.modelExplorer) throw new ExrayInputError(file, 'nothing to export: pass --perfetto <out.json> and/or --model-explorer <out.json>');
  await checkOutputFiles([opts.perfetto, opts.modelExplorer].filter((o): o is string => o !== undefined), [file, ...(opts.ref ? [opts.ref] : [])]);
  const trace = await readTrace(file);
  // The reference is read and checked before anything is written.
  const byRef = opts.modelExplorer && (opts.metric === 'nrmse' || opts.metric === 'maxAbs');
  if (byRef && !opts.ref) throw new ExrayInputError(file, `--metric ${opts.metric} needs --ref <reference.exray>`);
  const ref = byRef && opts.ref ? await readTrace(opts.ref) : null;
  if (ref && opts.ref) checkSameModel([{ file, header: trace.header }, { file: opts.ref, header: ref.header }], opts.allowDifferentModels === true);
  if (opts.perfetto) {
    await writeOutput(opts.perfetto, JSON.stringify(toPerfetto(trace)));
    process.stdout.write(`wrote ${opts.perfetto} (${trace.header.kernels.length} kernels; open in ui.perfetto.dev or chrome://tracing)\n`);
  }
  if (opts.modelExplorer) {
    let metric: (n: NodeRecord) => number | undefined;
    const k = trace.header.kernels;
    switch (opts.metric) {
      case 'ms':
        metric = (n) => n.kernels.reduce((a, i) => a + (k[i]?.ms ?? 0), 0);
        break;
      case 'mean':
      case 'std':
      case 'max': {
        const field = opts.metric;
        metric = (n) => n.outputs[0]?.stats?.[field];
        break;
      }
      case 'nrmse':
      case 'maxAbs': {
        if (!ref || !opts.ref) throw new ExrayInputError(file, `--metric ${opts.metric} needs --ref <reference.exray>`);
        const c = compareTraces(trace, ref);
        const field = opts.metric;
        const byName = new Map<string, number>();
        for (const r of c.nodes) {
          const v = r.metrics?.[field];
          if (r.outputIndex === 0 && typeof v === 'number') byName.set(r.name, v);
        }
        if (byName.size === 0) {
          throw new ExrayInputError(opts.ref, `no node of ${file} has a ${field} against this reference (no node names in common, or no recorded values): nothing to export`);
        }
        metric = (n) => byName.get(n.name);
        break;
      }
    }
    await writeOutput(opts.modelExplorer, JSON.stringify(toModelExplorerNodeData(trace, metric)));
    process.stdout.write(`wrote ${opts.modelExplorer} (Model Explorer node data, metric ${opts.metric})\n`);
  }
}
