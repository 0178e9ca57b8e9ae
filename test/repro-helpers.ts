/**
 * The edited-weights kernel case of `exray repro` (test/repro.test.ts) and of the page's repro button
 * (e2e/repro-page.spec.ts): emotion (TF.js graph model) with one convolution's filter scaled, written
 * as a deployed model folder of its own — a node that computes differently on the same inputs.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS } from './helpers.ts';

/** emotion with the filter of its middle _FusedConv2D scaled by 1.2 (float32 weights in one shard), in `dst`. Returns the node. */
export function editedEmotion(dst: string): string {
  const src = join(MODELS, 'emotion');
  mkdirSync(dst, { recursive: true });
  const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8')) as { modelTopology: { node: { name: string; op: string; input: string[] }[] }; weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[] };
  copyFileSync(join(src, 'model.json'), join(dst, 'model.json'));
  copyFileSync(join(src, 'exray.json'), join(dst, 'exray.json'));
  const convs = json.modelTopology.node.filter((n) => n.op === '_FusedConv2D');
  const target = convs[Math.floor(convs.length / 2)]!;
  const group = json.weightsManifest[0]!;
  const shard = readFileSync(join(src, group.paths[0]!));
  let offset = 0;
  for (const w of group.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.name === target.input[1]) {
      const f = new Float32Array(shard.buffer, shard.byteOffset + offset, n);
      for (let i = 0; i < n; i++) f[i]! *= 1.2;
      break;
    }
    offset += n * 4;
  }
  writeFileSync(join(dst, group.paths[0]!), shard);
  return target.name;
}
