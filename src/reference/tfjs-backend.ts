/** TF.js backends available in Node (tfjs-node cannot be installed here: cpu and wasm only). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import type { Environment } from '../trace/types.ts';

export const NODE_BACKENDS = ['cpu', 'wasm'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

export function isNodeBackend(name: string): name is NodeBackend {
  return (NODE_BACKENDS as readonly string[]).includes(name);
}

/** Select a backend and wait until it is ready; returns what the trace should add to its environment. */
export async function useBackend(name: NodeBackend): Promise<Partial<Environment>> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`TF.js backend "${name}" failed to initialise in Node`);
  await tf.ready();
  // The cpu backend's first write prints a 3-line "install tfjs-node" banner on stderr: exray chose
  // cpu/wasm on purpose (tfjs-node downloads libtensorflow) and says which backend it uses.
  const backend = tf.backend() as { firstUse?: boolean };
  if (name === 'cpu' && backend.firstUse === true) backend.firstUse = false;
  const extra: Partial<Environment> = { hardwareConcurrency: availableParallelism() };
  if (name === 'wasm') extra.threads = getThreadsCount();
  else extra.threads = 1;
  return extra;
}

export { tf };
