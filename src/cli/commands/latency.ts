/** `exray latency <trace...>`: kernel latency guidance for one model across backends and runs. */
import { formatLatencyReport, latencyReport } from '../../diagnose/index.ts';
import { readTraceHeaderOnly } from '../io.ts';

export interface LatencyCommandOptions {
  json?: boolean;
  top: number;
}

export async function latencyCommand(files: string[], opts: LatencyCommandOptions): Promise<void> {
  const traces = [];
  // Timings live in the header: blobs are never inflated (docs/limits.md).
  for (const f of files) traces.push(readTraceHeaderOnly(f));
  const report = latencyReport(traces, { top: opts.top });
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatLatencyReport(report, { rows: opts.top })}\n`);
}
