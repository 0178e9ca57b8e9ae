/**
 * The agent's cost inside an app (Node, TF.js wasm, MobileNetV2 graph model), side by side in every
 * round, rotating order, ratios of medians:
 * - plain: the unpatched `GraphModel.execute` (saved before attaching), output read back;
 * - agent, timing only: the patched method when the sampler says "timing" (the goal: ≤ 1.05×);
 * - agent, captured inference (stats): the app's call when it is captured (node statistics in the
 *   hooks); the trace is built and written after the call, outside the timed span, as in an app.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf, useBackend } from '../src/reference/tfjs-backend.ts';
import { loadTfjsModelFromDir } from '../src/models/load-node.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import { attach } from '../src/agent/index.ts';
import { median } from './overhead.ts';
import type { BenchResult } from './types.ts';

export async function benchAgent(rounds: number): Promise<BenchResult[]> {
  await useBackend('wasm');
  const name = 'nsfw-mobilenet-v2-mid';
  const dir = join('models', name);
  const card = await loadModelCard(join(dir, 'exray.json'));
  const { image, source } = await decodeImageFile('public/samples/chelsea.png');
  const pre = preprocess(image, source.exifOrientation, card.inputs[0]!.preprocess!);
  const model = (await loadTfjsModelFromDir(dir, tf)).model as tf.GraphModel;
  const x = tf.tensor(pre.data, pre.shape, 'float32');
  const feed = { [card.inputs[0]!.name]: x };
  const original = tf.GraphModel.prototype.execute;
  const out = join(await mkdtemp(join(tmpdir(), 'exray-bench-agent-')), 'traces');
  const agent = await attach({ tf, out, sample: { first: 0 }, log: () => {} });
  const readBack = (y: tf.Tensor | tf.Tensor[]): void => {
    const ys = Array.isArray(y) ? y : [y];
    for (const t of ys) t.dataSync();
    tf.dispose(ys);
  };
  const variants: Record<string, () => Promise<void>> = {
    plain: async () => readBack(original.call(model, feed) as tf.Tensor),
    'agent, timing only': async () => readBack(model.execute(feed) as tf.Tensor),
    'agent, captured (stats)': async () => {
      agent.captureNext();
      readBack(model.execute(feed) as tf.Tensor);
    },
  };
  // Two interleaved loops: timing-only against plain (the small difference needs many rounds and no
  // capture's garbage nearby), then captured against plain.
  const measure = async (names: string[], n: number): Promise<Map<string, number[]>> => {
    const times = new Map<string, number[]>(names.map((k) => [k, []]));
    for (const k of names) await variants[k]!(); // warm-up
    await agent.idle();
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < names.length; k++) {
        const v = names[(r + k) % names.length]!;
        const t0 = performance.now();
        await variants[v]!();
        times.get(v)!.push(performance.now() - t0);
        // A captured trace is built and written here, off the clock (an app's idle time).
        await agent.idle();
      }
    }
    return times;
  };
  const cheap = await measure(['plain', 'agent, timing only'], rounds * 3);
  const captured = await measure(['plain', 'agent, captured (stats)'], rounds);
  await agent.detach();
  x.dispose();
  model.dispose();
  await rm(join(out, '..'), { recursive: true, force: true });
  const plain = median(cheap.get('plain')!);
  const tag = `agent ${name}/wasm`;
  return [
    { name: `${tag}: plain execute median`, value: plain, unit: 'ms' },
    { name: `${tag}: timing-only inference / plain (goal ≤ 1.05)`, value: median(cheap.get('agent, timing only')!) / plain, unit: '×' },
    { name: `${tag}: captured inference (stats) / plain`, value: median(captured.get('agent, captured (stats)')!) / median(captured.get('plain')!), unit: '×' },
    { name: `${tag}: captures shipped`, value: agent.counters.shipped, unit: 'traces' },
  ];
}
