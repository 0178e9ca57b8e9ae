/**
 * What the TF.js capture tests share: a Runner that says whether the model is running (to tell nodes
 * handed on during the run from those after it), and a bundled sample on the chelsea photo, loaded on
 * a backend and disposed after (back on wasm, the tests' default).
 */
import { isGraphModel, Runner, type ModelInputs } from '../src/instrument/tfjs/index.ts';
import type { TfjsModel } from '../src/instrument/tfjs/hooks.ts';
import { loadSample, photoFeed, tf, toTensor, useBackend, type NodeBackend } from './helpers.ts';

/** A Runner that says whether the model is running now. */
export class WatchedRunner extends Runner {
  running = false;
  override async run(): Promise<tf.Tensor[]> {
    this.running = true;
    try {
      return await super.run();
    } finally {
      this.running = false;
    }
  }
}

/**
 * `f` on sample `name` fed chelsea.png on `backend`: a graph model gets its input by name, a layers
 * model the tensor itself.
 */
export async function withSample(name: string, backend: NodeBackend, f: (model: TfjsModel, x: ModelInputs) => Promise<void>): Promise<void> {
  await useBackend(backend);
  const model = (await loadSample(name)).model;
  const feed = await photoFeed(name, 'chelsea.png');
  const x = toTensor(feed);
  try {
    await f(model, isGraphModel(model) ? { [feed.name]: x } : x);
  } finally {
    x.dispose();
    model.dispose();
    if (backend !== 'wasm') await useBackend('wasm');
  }
}
