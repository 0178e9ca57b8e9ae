/**
 * Silero VAD legacy, as @ricky0123/vad-web ships it (dist/silero_vad_legacy.onnx: 248 of its 250 nodes
 * inside one `If`, LSTMs in Ifs inside it), through the CLI as a user runs it: `exray trace --backend
 * wasm` on four tensor files, `exray reference` (onnxruntime-node cpu, the edge trace's input), `exray
 * compare` → ok, body nodes included.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrace } from '../../src/cli/io.ts';
import type { Comparison } from '../../src/compare/index.ts';
import { runCli } from '../helpers.ts';
import { legacyInputs, SILERO_LEGACY } from '../silero-legacy.ts';
import { wildTmp } from './helpers.ts';

const tmp = wildTmp('silero-legacy');
const edge = join(tmp, 'edge.exray');
const ref = join(tmp, 'ref.exray');

describe('Silero VAD legacy (If subgraphs) through the CLI', () => {
  it('trace on wasm, reference on cpu, compare ok node by node inside the If', async () => {
    const inputs = legacyInputs(tmp).flatMap((i) => ['--input', i]);
    const t = await runCli(['trace', SILERO_LEGACY, ...inputs, '--backend', 'wasm', '--capture', 'tensors', '--runs', '2', '--warmup', '1', '--out', edge]);
    expect(t.code, t.err).toBe(0);
    const r = await runCli(['reference', edge, '--model', SILERO_LEGACY, '--runs', '2', '--warmup', '1', '--out', ref]);
    expect(r.code, r.err).toBe(0);

    const e = await readTrace(edge);
    expect(e.header.runtime.name).toBe('onnxruntime-web');
    expect(e.header.nodes).toHaveLength(250);
    const inside = e.header.nodes.filter((n) => n.name.startsWith('If_25/then/') && n.outputs.some((o) => o.blob));
    expect(inside.filter((n) => n.op === 'Conv').length).toBeGreaterThan(10);
    expect(inside.some((n) => n.op === 'LSTM')).toBe(true);

    const c = await runCli(['compare', edge, ref, '--json']);
    expect(c.code, c.err).toBe(0);
    const cmp = JSON.parse(c.out) as Comparison;
    expect(cmp.ref.runtime).toMatch(/onnxruntime-node/);
    expect(cmp.verdict, cmp.summary).toBe('ok');
    const compared = cmp.nodes.filter((n) => n.name.startsWith('If_25/then/') && n.metrics !== null);
    expect(compared.length).toBeGreaterThan(100);
    expect(compared.filter((n) => n.op === 'LSTM').length).toBeGreaterThan(0);
  }, 300_000);
});
