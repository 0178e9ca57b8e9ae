/** `exray latency <trace...>`: kernel latency guidance for one model across backends and runs. */
import { formatLatencyReport, latencyReport } from '../../diagnose/index.ts';
import { readTrace } from '../io.ts';

export interface LatencyCommandOptions {
  json?: boolean;
  top: number;
}

export async function latencyCommand(files: string[], opts: LatencyCommandOptions): Promise<void> {
  const traces = [];
  for (const f of files) traces.push(await readTrace(f));
  const report = latencyReport(traces, { top: opts.top });
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatLatencyReport(report, { rows: opts.top })}\n`);
}
