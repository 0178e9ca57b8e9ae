/**
 * A full garbage collection on demand in Node, for the capture passes of a large model (ISNet 1024²:
 * 30 passes of up to --max-memory each). Each pass drops its runtime's outputs and their statistics
 * copies; V8 frees those arrays only at its next collection, which its heuristics may put several passes
 * later. Node exposes `gc` only with --expose-gc: the flag is set at run time and the function read from
 * a fresh context (the flag applies to contexts created after it). Null when that fails (another
 * engine, a hardened build): the passes then run as before.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

export function fullGc(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    collect = typeof gc === 'function' ? () => (gc as () => void)() : null;
  } catch {
    collect = null;
  }
  return collect;
}
