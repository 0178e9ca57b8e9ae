/** The default memory budget of a capture in Node (`--max-memory`; docs/limits.md). */
import { freemem, totalmem } from 'node:os';

/**
 * The budget for the outputs one capture run exposes: an eighth of the machine's memory or a quarter
 * of what is free now, whichever is smaller, within 256 MiB … 4 GiB. The model's own working memory,
 * Node and the trace writer come on top of it.
 */
export function defaultMaxMemory(): number {
  const b = Math.min(totalmem() / 8, freemem() / 4);
  return Math.floor(Math.min(4 * 1024 ** 3, Math.max(256 * 1024 ** 2, b)));
}
