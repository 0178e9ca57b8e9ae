/** Shared set-up for tests on the real sample models and photos (Node, TF.js cpu/wasm). */
import { join } from 'node:path';
import { tf, useBackend, type NodeBackend } from '../src/reference/tfjs-backend.ts';
import { loadTfjsModelFromDir } from '../src/models/load-node.ts';
import { loadModelCard, type ModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { FeedTensor } from '../src/reference/feed.ts';
import { main } from '../src/cli/main.ts';

export const ROOT = join(import.meta.dirname, '..');
export const MODELS = join(ROOT, 'models');
export const SAMPLES = join(ROOT, 'public', 'samples');

export { tf, useBackend, type NodeBackend };

export async function card(name: string): Promise<ModelCard> {
  return loadModelCard(join(MODELS, name, 'exray.json'));
}

export async function loadSample(name: string): Promise<Awaited<ReturnType<typeof loadTfjsModelFromDir>>> {
  return loadTfjsModelFromDir(join(MODELS, name), tf);
}

/** A real photo, pre-processed as the model's card says. */
export async function photoFeed(model: string, photo: string): Promise<FeedTensor> {
  const c = await card(model);
  const input = c.inputs[0]!;
  if (!input.preprocess) throw new Error(`${model}: no image input`);
  const { image, source } = await decodeImageFile(join(SAMPLES, photo));
  const t = preprocess(image, source.exifOrientation, input.preprocess);
  return { name: input.name, shape: t.shape, dtype: t.dtype, data: t.data };
}

export function toTensor(f: FeedTensor): tf.Tensor {
  return tf.tensor(f.data, f.shape, f.dtype === 'int32' || f.dtype === 'uint8' ? 'int32' : 'float32');
}

/** Runs the exray CLI in this process (one TF.js for all tests), capturing stdout and stderr. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const capture = (sink: (s: string) => void) =>
    ((s: string | Uint8Array) => {
      sink(typeof s === 'string' ? s : Buffer.from(s).toString());
      return true;
    }) as typeof process.stdout.write;
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = capture((s) => (out += s));
  process.stderr.write = capture((s) => (err += s));
  process.exitCode = undefined;
  try {
    return { code: await main(['node', 'exray', ...args]), out, err };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
  }
}
