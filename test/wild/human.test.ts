/**
 * Two @vladmandic/human@3.3.6 models exray does not bundle, as a user brings them: facemesh (468 face
 * landmarks, traced by its `facemesh.json` path, card `facemesh.exray.json` beside it) and faceres (age,
 * gender and a 1024-d face descriptor, traced by its folder), each fed the way human feeds it, on a face
 * cropped from a real photo: trace on wasm, reference on cpu, compare with the card's output kinds.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshCard, resCard } from './human-cards.ts';
import { ROOT, SHARED_IMAGES, compare, exray, outputValues, printRuns, wildTmp } from './helpers.ts';

const HUMAN = join(ROOT, 'node_modules', '@vladmandic', 'human', 'models');
const tmp = wildTmp('human');
const face = join(tmp, 'astronaut-face.png');
const meshDir = join(tmp, 'models');
const mesh = join(meshDir, 'facemesh.json');
const resDir = join(tmp, 'faceres');

beforeAll(async () => {
  // The face box of astronaut.png (Eileen Collins), as human's detector would hand it on.
  await sharp(join(SHARED_IMAGES, 'astronaut.png')).extract({ left: 140, top: 25, width: 170, height: 170 }).toFile(face);
  mkdirSync(meshDir);
  mkdirSync(resDir);
  for (const ext of ['json', 'bin']) {
    copyFileSync(join(HUMAN, `facemesh.${ext}`), join(meshDir, `facemesh.${ext}`));
    copyFileSync(join(HUMAN, `faceres.${ext}`), join(resDir, `faceres.${ext}`));
  }
  // Two models share one folder, as human ships them: the traced one is picked by file.
  copyFileSync(join(HUMAN, 'antispoof.json'), join(meshDir, 'antispoof.json'));
  copyFileSync(join(HUMAN, 'antispoof.bin'), join(meshDir, 'antispoof.bin'));
  writeFileSync(join(meshDir, 'facemesh.exray.json'), JSON.stringify(meshCard));
  writeFileSync(join(resDir, 'faceres.exray.json'), JSON.stringify(resCard));
});

afterAll(() => printRuns('human models'));

const run = ['--runs', '1', '--warmup', '0'];

describe('@vladmandic/human models a user brings', () => {
  it('facemesh.json (by its file, in a shared folder): wasm vs cpu ok, landmarks compared as keypoints in pixels', async () => {
    const edge = join(tmp, 'facemesh-wasm.exray');
    const ref = join(tmp, 'facemesh-cpu.exray');
    await exray('facemesh: trace wasm', ['trace', mesh, '--image', face, '--backend', 'wasm', ...run, '--out', edge]);
    await exray('facemesh: reference cpu', ['reference', edge, '--model', mesh, '--backend', 'cpu', ...run, '--out', ref]);
    const c = await compare('facemesh: compare', edge, ref, ['--model', mesh]);
    expect(c.verdict).toBe('ok');
    expect(c.sameModel).toBe(true);
    expect(c.basis.nodes).toBe('values');
    expect(c.counts).toMatchObject({ total: 120, ok: 120, diverged: 0, missing: 0 });
    expect(c.inputs.verdict).toBe('identical');
    const kinds = c.outputs.tensors.map((o) => [o.name, o.kind.kind, o.kind.source]);
    expect(kinds).toEqual([
      ['output_mesh', 'keypoints', 'given'],
      ['output_faceflag', 'regression', 'given'],
      ['output_contours', 'keypoints', 'given'],
    ]);
    const m = c.outputs.tensors[0]!.measure;
    expect(m?.kind).toBe('keypoints');
    if (m?.kind !== 'keypoints') throw new Error('unreachable');
    expect(m.points).toBe(468);
    expect(m.nonFinite).toBe(0);
    // wasm and cpu agree on every landmark to far under a pixel of the 192² crop.
    expect(m.pixels!.maxDistance).toBeLessThan(0.01);
    expect(c.outputs.tensors[2]!.measure).toMatchObject({ kind: 'keypoints', points: 133 });
    expect(c.summary).toMatch(/^ok: 120\/120 node outputs within tolerance; output_mesh: keypoints: 468 points/);
    // It is a face: human keeps a mesh whose face flag passes its minConfidence; the landmarks lie inside the crop.
    expect((await outputValues(ref, 'output_faceflag'))[0]).toBeGreaterThan(0.5);
    const xy = await outputValues(ref, 'output_mesh');
    for (let i = 0; i < xy.length; i += 3) {
      expect(xy[i]).toBeGreaterThan(0);
      expect(xy[i]).toBeLessThan(192);
    }
  });

  it('faceres (by its folder): wasm vs cpu ok, the descriptor compared by cosine, age and gender as scores', async () => {
    const edge = join(tmp, 'faceres-wasm.exray');
    const ref = join(tmp, 'faceres-cpu.exray');
    await exray('faceres: trace wasm', ['trace', resDir, '--image', face, '--backend', 'wasm', ...run, '--out', edge]);
    await exray('faceres: reference cpu', ['reference', edge, '--model', resDir, '--backend', 'cpu', ...run, '--out', ref]);
    const c = await compare('faceres: compare', edge, ref, ['--model', resDir]);
    expect(c.verdict).toBe('ok');
    expect(c.counts).toMatchObject({ total: 154, ok: 154, diverged: 0, missing: 0 });
    const [gender, desc, age] = c.outputs.tensors;
    expect([gender!.kind.kind, desc!.kind.kind, age!.kind.kind]).toEqual(['scores', 'embedding', 'scores']);
    expect(desc!.measure).toMatchObject({ kind: 'embedding' });
    if (desc!.measure?.kind !== 'embedding') throw new Error('unreachable');
    expect(desc!.measure.cosine).toBeGreaterThan(0.99999);
    expect(age!.measure).toMatchObject({ kind: 'scores', classes: 100, top1Equal: true });
    expect(age!.topK?.top1Equal).toBe(true);
    expect(c.outputs.top1Equal).toBe(true);
    expect(c.summary).toMatch(/^ok: 154\/154 node outputs within tolerance; top-1 agrees$/);
  });
});
