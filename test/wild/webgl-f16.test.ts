/**
 * Half-float WebGL on a model a user brings (human's facemesh.json, card beside it): `exray trace
 * --browser --backend webgl --f16` (headless Chromium, SwiftShader), cpu reference, then compare under
 * the float16 preset (chosen from the trace, and given with `--preset float16`) and diagnose: the reduced
 * precision is named, the verdict is ok, the landmarks move by a fraction of a pixel.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diagnosis } from '../../src/diagnose/types.ts';
import { ROOT, SHARED_IMAGES, compare, exray, printRuns, wildTmp } from './helpers.ts';
import { meshCard } from './human-cards.ts';

const tmp = wildTmp('f16');
const face = join(tmp, 'astronaut-face.png');
const mesh = join(tmp, 'facemesh.json');

beforeAll(async () => {
  await sharp(join(SHARED_IMAGES, 'astronaut.png')).extract({ left: 140, top: 25, width: 170, height: 170 }).toFile(face);
  mkdirSync(tmp, { recursive: true });
  for (const ext of ['json', 'bin']) copyFileSync(join(ROOT, 'node_modules', '@vladmandic', 'human', 'models', `facemesh.${ext}`), join(tmp, `facemesh.${ext}`));
  writeFileSync(join(tmp, 'facemesh.exray.json'), JSON.stringify(meshCard));
});

afterAll(() => printRuns('facemesh on half-float WebGL'));

describe('f16 WebGL on a wild model', () => {
  it('facemesh --browser --backend webgl --f16: float16 named, ok under the float16 preset', async () => {
    const edge = join(tmp, 'facemesh-webgl-f16.exray');
    const ref = join(tmp, 'facemesh-cpu.exray');
    const run = ['--runs', '1', '--warmup', '0'];
    await exray('facemesh: trace --browser webgl --f16', ['trace', mesh, '--image', face, '--browser', '--backend', 'webgl', '--f16', ...run, '--out', edge], { env: { EXRAY_CHROMIUM: '/usr/bin/chromium' } });
    await exray('facemesh: reference cpu', ['reference', edge, '--model', mesh, '--backend', 'cpu', ...run, '--out', ref]);
    const auto = await compare('facemesh f16: compare (preset from the trace)', edge, ref, ['--model', mesh]);
    expect(auto.tolerance).toMatchObject({ preset: 'float16', presetSource: 'auto' });
    expect(auto.warnings.join('\n')).toMatch(/tolerance preset float16 chosen from the traces' precision \(edge: half-float arithmetic/);
    const c = await compare('facemesh f16: compare --preset float16', edge, ref, ['--model', mesh, '--preset', 'float16']);
    expect(c.tolerance).toMatchObject({ preset: 'float16', presetSource: 'given' });
    expect(c.verdict).toBe('ok');
    expect(c.counts).toMatchObject({ total: 120, ok: 120, diverged: 0 });
    const m = c.outputs.tensors.find((o) => o.name === 'output_mesh')!.measure;
    if (m?.kind !== 'keypoints') throw new Error(`output_mesh measured as ${m?.kind}`);
    // Half floats move the landmarks (unlike wasm vs cpu, ~1e-5 px) but by far under a pixel.
    expect(m.pixels!.meanDistance).toBeGreaterThan(1e-3);
    expect(m.pixels!.maxDistance).toBeLessThan(1);
    const d = JSON.parse((await exray('facemesh f16: diagnose', ['diagnose', edge, '--image', face, '--model', mesh, '--json'])).stdout) as Diagnosis;
    expect(d.inputMatches).toBe(true);
    const named = [...d.causes, ...(d.info ?? [])].find((x) => x.code === 'float16');
    expect(named, d.summary).toBeDefined();
    expect(named!.detail).toMatch(/half-float backend \(floatPrecision 16, WEBGL_FORCE_F16_TEXTURES/);
    expect(named!.detail).toMatch(/output nrmse \d/);
    expect(d.causes.some((x) => x.code === 'kernel')).toBe(false);
  });
});
