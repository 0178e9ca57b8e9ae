import { readTraceHeaderOnly } from '../io.ts';
import { formatKernels, formatTraceSummary } from '../format.ts';

export async function inspectCommand(file: string, opts: { json?: boolean; limit: number }): Promise<void> {
  // The header only: a trace of any size costs its header.json (docs/limits.md).
  const trace = readTraceHeaderOnly(file);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(trace.header, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatTraceSummary(trace, { limit: opts.limit })}\n\n${formatKernels(trace, opts.limit)}\n`);
}
