/**
 * `exray trace --browser`: the traced run happens in a real headless Chromium (Playwright), on browser
 * backends, and the trace that comes back compares with the Node reference like any other.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { readTrace } from '../src/cli/io.ts';
import { compareTraces } from '../src/compare/index.ts';
import { MODELS, ROOT, SAMPLES } from './helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-browser-'));
// The small emotion CNN: half-float textures break it on this photo as they break MobileNetV2, whose
// `trace --browser --f16` run test/diagnose-nodes.test.ts makes (one Chromium MobileNetV2 f16 run is enough).
const model = join(MODELS, 'emotion');
const photo = join(SAMPLES, 'chelsea.png');

async function exray(args: string[]): Promise<number> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await main(['node', 'exray', ...args]);
  } finally {
    process.stdout.write = write;
    process.exitCode = undefined;
  }
}

// Each case starts Chromium (SwiftShader) once or more, ~40-100 s on a quiet machine and 2-3x that
// while another heavy file runs beside it on the 2 cores: timeouts of ~3x the loaded time.
describe('trace --browser', { timeout: 400_000 }, () => {
  // Plain float32 WebGL agreeing with the reference is checked in the page (e2e/diagnosis.spec.ts);
  // here one Chromium launch fewer: float32 wasm is the noise floor half-float is measured against.
  it('wasm in Chromium agrees with the Node cpu reference; half-float webgl diverges and is located', async () => {
    const out = (n: string): string => join(tmp, `${n}.exray`);
    const common = ['--image', photo, '--runs', '1', '--warmup', '0', '--browser'];
    expect(await exray(['trace', model, ...common, '--backend', 'wasm', '--out', out('wasm')])).toBe(0);
    expect(await exray(['trace', model, ...common, '--backend', 'webgl', '--f16', '--out', out('f16')])).toBe(0);
    expect(await exray(['reference', out('wasm'), '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', out('ref')])).toBe(0);
    const [wasm, f16, ref] = await Promise.all(['wasm', 'f16', 'ref'].map((n) => readTrace(out(n))));

    expect(wasm!.header.environment.kind).toBe('browser');
    expect(wasm!.header.environment.userAgent).toMatch(/Chrome/);
    expect(wasm!.header.environment.crossOriginIsolated).toBe(true);
    expect(wasm!.header.environment.floatPrecision).toBe(32);
    expect(f16!.header.environment.webgl?.renderer).toMatch(/SwiftShader/);
    expect(f16!.header.environment.floatPrecision).toBe(16);
    expect(f16!.header.environment.webgl?.floatTextures).toBe(false);
    expect(f16!.header.environment.flags.WEBGL_FORCE_F16_TEXTURES).toBe(true);

    const plain = compareTraces(wasm!, ref!);
    expect(plain.inputs.verdict).toBe('identical');
    expect(plain.verdict, plain.summary).toBe('ok');
    expect(plain.outputs.top1Equal).toBe(true);
    const half = compareTraces(f16!, ref!);
    expect(half.inputs.verdict).toBe('identical');
    expect(half.verdict).toBe('diverged');
    expect(half.firstDivergent).not.toBeNull();
    // Half-float error is orders of magnitude above float32 noise, layer for layer.
    const worst = (c: typeof plain): number => Math.max(...c.nodes.map((n) => n.metrics?.nrmse ?? 0));
    expect(worst(half)).toBeGreaterThan(100 * worst(plain));
  });

  it('refuses webgl without --browser, naming the problem', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(await exray(['trace', model, '--image', photo, '--backend', 'webgl'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/webgl runs in a browser: add --browser/);
  });
});

describe('trace --browser on an ONNX model', () => {
  // The orientation classifier, not the recogniser: the page reads the recogniser's line in
  // e2e/onnx.spec.ts and test/ort-browser.test.ts; here the CLI's browser route on an image input.
  it('the PaddleOCR orientation classifier on onnxruntime-web wasm in Chromium: 0° for the line, every node recorded, same as onnxruntime-node', async () => {
    const out = join(tmp, 'cls-wasm.exray');
    const ref = join(tmp, 'cls-node.exray');
    const cls = join(MODELS, 'ppocr-mobile-v2-cls');
    const common = ['--image', join(SAMPLES, 'page_line1.png'), '--capture', 'stats', '--runs', '1', '--warmup', '0'];
    expect(await exray(['trace', cls, ...common, '--browser', '--backend', 'wasm', '--out', out])).toBe(0);
    expect(await exray(['trace', cls, ...common, '--backend', 'cpu', '--out', ref])).toBe(0);
    const [t, r] = [await readTrace(out), await readTrace(ref)];
    expect(t.header.runtime.name).toBe('onnxruntime-web');
    expect(t.header.runtime.backend).toBe('wasm');
    expect(t.header.environment.kind).toBe('browser');
    expect(t.header.environment.userAgent).toMatch(/Chrome/);
    expect(t.header.model.name).toBe('ppocr-mobile-v2-cls');
    expect(t.header.nodes.length).toBe(r.header.nodes.length);
    expect(t.header.nodes.length).toBeGreaterThan(50);
    expect(t.header.nodes.every((n) => n.outputs.every((o) => o.stats))).toBe(true);
    expect(t.header.kernels.length).toBeGreaterThan(0);
    const p = t.blobs.get(t.header.outputs[0]!.blob!.id)!;
    expect(p[0]!).toBeGreaterThan(p[1]!);
    const c = compareTraces(t, r);
    expect(c.inputs.verdict).toBe('identical');
    expect(c.verdict, c.summary).toBe('ok');
  });

  it('--nodes and --max-memory reach the page: only the Conv nodes are captured, in several passes, with the plan in the trace', async () => {
    const out = join(tmp, 'cls-convs.exray');
    const cls = join(MODELS, 'ppocr-mobile-v2-cls');
    const args = ['trace', cls, '--image', join(SAMPLES, 'page_line1.png'), '--browser', '--backend', 'wasm', '--capture', 'tensors', '--nodes', 'p2o.Conv.*', '--max-memory', '2MiB', '--runs', '1', '--warmup', '0', '--out', out];
    expect(await exray(args)).toBe(0);
    const t = await readTrace(out);
    expect(t.header.environment.kind).toBe('browser');
    const withValues = t.header.nodes.filter((n) => n.outputs.some((o) => o.blob));
    expect(withValues.length).toBeGreaterThan(10);
    expect(withValues.every((n) => n.name.startsWith('p2o.Conv.'))).toBe(true);
    expect(t.header.nodes.some((n) => !n.name.startsWith('p2o.Conv.'))).toBe(true);
    const plan = t.header.capturePlan!;
    expect(plan.nodes).toBe('p2o.Conv.*');
    expect(plan.maxMemoryBytes).toBe(2 * 1024 * 1024);
    expect(plan.capturedNodes).toBe(withValues.length);
    expect(plan.passes).toBeGreaterThan(1);
  });

  it('Silero VAD from three tensor files (.npy, int64 sr) in Chromium: all inputs recorded, "speech", same as onnxruntime-node', async () => {
    const fx = (f: string): string => join(ROOT, 'test', 'fixtures', 'silero', f);
    const vad = join(MODELS, 'silero-vad-v5');
    const inputs = ['--input', `input=${fx('speech_input.npy')}`, `state=${fx('speech_state.npy')}`, `sr=${fx('sr.npy')}`];
    const out = join(tmp, 'vad-browser.exray');
    const ref = join(tmp, 'vad-node.exray');
    expect(await exray(['trace', vad, ...inputs, '--browser', '--backend', 'wasm', '--runs', '1', '--warmup', '0', '--out', out])).toBe(0);
    expect(await exray(['trace', vad, ...inputs, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', ref])).toBe(0);
    const [t, r] = [await readTrace(out), await readTrace(ref)];
    expect(t.header.environment.kind).toBe('browser');
    expect(t.header.runtime).toMatchObject({ name: 'onnxruntime-web', backend: 'wasm' });
    expect(t.header.input.tensors.map((x) => [x.name, x.dtype, x.shape])).toEqual([
      ['input', 'float32', [1, 576]],
      ['state', 'float32', [2, 1, 128]],
      ['sr', 'int64', []],
    ]);
    const p = (x: typeof t): number => x.blobs.get(x.header.outputs.find((o) => o.name === 'output')!.blob!.id)![0]!;
    expect(p(t)).toBeGreaterThan(0.9);
    const c = compareTraces(t, r);
    expect(c.inputs.verdict).toBe('identical');
    expect(c.verdict, c.summary).toBe('ok');
  });

  it('refuses backends onnxruntime-web cannot run ONNX on, saying why', async () => {
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
    try {
      expect(await exray(['trace', join(MODELS, 'ppocr-v4-rec'), '--image', join(SAMPLES, 'page_line1.png'), '--browser', '--backend', 'webgl'])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(err.join('')).toMatch(/--backend webgl: ONNX: .*use --backend wasm or webgpu/);
  });
});
