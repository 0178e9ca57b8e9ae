/**
 * Errors raised by src/trace. Pure: no DOM, no Node.
 */

/**
 * A trace (a `.exray` file, an event stream or an in-memory Trace) violates the format.
 * `file` names the source (file name, `event stream`, `trace <id>`); `problem` says what is wrong,
 * naming the JSON path where there is one (`nodes[12].outputs[0].shape[1] must be a non-negative integer`).
 */
export class TraceFormatError extends Error {
  readonly file: string;
  readonly problem: string;

  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'TraceFormatError';
    this.file = file;
    this.problem = problem;
  }
}

/** The producer reported that the run failed (a `run-error` event); `finish()` cannot produce a trace. */
export class TraceRunError extends Error {
  readonly source: string;
  readonly runMessage: string;

  constructor(source: string, runMessage: string) {
    super(`${source}: the run failed: ${runMessage}`);
    this.name = 'TraceRunError';
    this.source = source;
    this.runMessage = runMessage;
  }
}

/** A byte count for messages: 3.9 GiB, 12 MiB, 512 bytes (src/limits.ts uses it too). */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2).replace(/\.?0+$/, '')} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(2).replace(/\.?0+$/, '')} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(2).replace(/\.?0+$/, '')} KiB`;
  return `${n} bytes`;
}
