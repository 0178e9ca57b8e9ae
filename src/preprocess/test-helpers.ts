/** Shared helpers for the src/preprocess tests (Node only). */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { decodeImageFile } from './decode-node.ts';
import type { DecodedImage } from './image.ts';

export const SAMPLES_DIR = fileURLToPath(new URL('../../public/samples/', import.meta.url));

export function samplePath(name: string): string {
  return SAMPLES_DIR + name;
}

const cache = new Map<string, Promise<DecodedImage>>();
/** Decoded sample (cached per test file; callers must not mutate the pixels). */
export function loadSample(name: string): Promise<DecodedImage> {
  let p = cache.get(name);
  if (!p) {
    p = decodeImageFile(samplePath(name));
    cache.set(name, p);
  }
  return p;
}

let ready: Promise<typeof tf> | undefined;
/** TF.js core on the cpu backend. */
export function tfCpu(): Promise<typeof tf> {
  ready ??= (async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    return tf;
  })();
  return ready;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

export { rng as prng } from '../trace/random.ts';
