/** The CLI: `exray diagnose` (text, --json, --fail-on-assert, --assertions) and `exray latency`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTrace } from '../src/cli/io.ts';
import type { Diagnosis, LatencyReport } from '../src/diagnose/index.ts';
import { ROOT, SAMPLES, runCli } from './helpers.ts';
import { edgeCase } from './diagnose-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-diagnose-cli-'));
const photo = join(SAMPLES, 'chelsea.png');
const bad = join(tmp, 'bgr-0-255.exray');
const clean = join(tmp, 'clean.exray');

const exray = runCli;

beforeAll(async () => {
  await writeTrace(bad, (await edgeCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png', wrong: { channels: 'bgr', scale: 1 } })).edge);
  await writeTrace(clean, (await edgeCase({ model: 'nsfw-mobilenet-v2', photo: 'chelsea.png' })).edge);
});

describe('exray diagnose', () => {
  it('--json: causes most likely first, first divergent node, input agreement, assertions, timings', async () => {
    const { code, out } = await exray(['diagnose', bad, '--image', photo, '--backend', 'wasm', '--json']);
    expect(code).toBe(0);
    const d = JSON.parse(out) as Diagnosis & { timings: Record<string, number> };
    expect(d.format).toBe('exray-diagnosis');
    expect(d.causes.map((c) => c.code).sort()).toEqual(['channel-order', 'normalization']);
    for (const c of d.causes) {
      expect(c.confidence).toBeGreaterThan(0.9);
      expect(typeof c.detail).toBe('string');
    }
    expect(d.causes[0]!.confidence).toBeGreaterThanOrEqual(d.causes[1]!.confidence);
    expect(d.firstDivergentNode).toBe('Conv1_pad');
    expect(d.inputMatches).toBe(false);
    expect(d.assertions.find((a) => a.id === 'input-range')!.ok).toBe(false);
    expect(d.timings['total']).toBeGreaterThan(0);
  });

  it('--fail-on-assert exits 1 on a failed assertion, 0 on a clean run; text output names the causes', async () => {
    expect((await exray(['diagnose', bad, '--image', photo, '--backend', 'wasm', '--fail-on-assert'])).code).toBe(1);
    const r = await exray(['diagnose', clean, '--image', photo, '--backend', 'wasm', '--fail-on-assert']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1\. none/);
    expect(r.out).toMatch(/No deployment bug found/);
    const t = await exray(['diagnose', bad, '--image', photo, '--backend', 'wasm']);
    expect(t.out).toMatch(/channel-order +0\.9\d +channels fed as BGR, the model expects RGB/);
  });

  it('--assertions loads user assertions written in a few lines', async () => {
    const file = join(tmp, 'my-asserts.ts');
    writeFileSync(
      file,
      [
        `import { defineAssertion } from ${JSON.stringify(join(ROOT, 'src/diagnose/index.ts'))};`,
        `export default defineAssertion({`,
        `  id: 'confident',`,
        `  description: 'the top class has probability >= 0.5',`,
        `  check: (trace) => {`,
        `    const p = trace.blobs.get(trace.header.outputs[0]!.blob!.id)!;`,
        `    const top = Math.max(...p);`,
        `    return { ok: top >= 0.5, detail: 'top probability ' + top.toFixed(3) };`,
        `  },`,
        `});`,
        `export const never = defineAssertion({ id: 'never', description: 'always fails', check: () => false });`,
      ].join('\n'),
    );
    const r = await exray(['diagnose', clean, '--image', photo, '--backend', 'wasm', '--json', '--assertions', file]);
    const d = JSON.parse(r.out) as Diagnosis;
    const mine = d.assertions.filter((a) => !a.builtin);
    expect(mine.map((a) => [a.id, a.ok])).toEqual([
      ['confident', true],
      ['never', false],
    ]);
    expect(mine[0]!.detail).toMatch(/^top probability 0\.\d{3}$/);
    expect((await exray(['diagnose', clean, '--image', photo, '--backend', 'wasm', '--assertions', file, '--fail-on-assert'])).code).toBe(1);
    expect((await exray(['diagnose', clean, '--assertions', join(tmp, 'missing.ts')])).code).toBe(2);
  });

  it('without --image: node-level diagnosis on the edge\'s own input, input not checked', async () => {
    const r = await exray(['diagnose', clean, '--backend', 'wasm', '--json']);
    const d = JSON.parse(r.out) as Diagnosis;
    expect(d.inputMatches).toBe(true); // the reference replayed the identical input
    expect(d.input).toBeNull();
    expect(d.causes.map((c) => c.code)).toEqual(['none']);
    expect(d.warnings.join()).toMatch(/no --image/);
  });
});

describe('exray latency', () => {
  it('reports backends, slowest nodes and ratios from several traces', async () => {
    const ref = join(tmp, 'ref.exray');
    expect((await exray(['reference', clean, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', ref])).code).toBe(0);
    const { code, out } = await exray(['latency', clean, ref, '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as LatencyReport;
    expect(r.model).toBe('nsfw-mobilenet-v2');
    expect(r.backends.map((b) => b.backend).sort()).toEqual(['cpu', 'wasm']);
    const conv = r.nodes.find((n) => n.op === 'Conv2D')!;
    const cpuKey = r.backends.find((b) => b.backend === 'cpu')!.key;
    expect(conv.ratio[cpuKey]!).toBeGreaterThan(1);
    expect(r.slowest).toHaveLength(2);
    const text = await exray(['latency', clean, ref]);
    expect(text.out).toMatch(/Slowest nodes/);
  });
});
