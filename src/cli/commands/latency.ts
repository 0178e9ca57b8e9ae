/** `exray latency <trace...>`: kernel latency guidance for one model across backends and runs. */
import { formatLatencyReport, latencyReport } from '../../diagnose/index.ts';
import { readTraceHeaderOnly } from '../io.ts';
import { checkSameModel } from '../same-model.ts';

export interface LatencyCommandOptions {
  json?: boolean;
  top: number;
  allowDifferentModels?: boolean;
}

export async function latencyCommand(files: string[], opts: LatencyCommandOptions): Promise<void> {
  const traces = [];
  // Timings live in the header: blobs are never inflated (docs/limits.md).
  for (const f of files) traces.push(readTraceHeaderOnly(f));
  checkSameModel(traces.map((t, i) => ({ file: files[i]!, header: t.header })), opts.allowDifferentModels === true);
  const report = latencyReport(traces, { top: opts.top });
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatLatencyReport(report, { rows: opts.top })}\n`);
}
