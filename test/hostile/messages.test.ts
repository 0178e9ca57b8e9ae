/**
 * One error style (issue #15 item 5), each a real CLI run in a child process (harness.ts): a usage error
 * is one line naming where help is; an internal error of a runtime becomes one `exray: <file>: <problem>`
 * line (unknown TF.js op, a weight shard over 2 GiB, a cyclic model given to diagnose); traces of
 * different models are refused by compare, latency and export --ref unless --allow-different-models.
 * Every case: its exit code, exactly one stderr line starting `exray: `, no stack trace. Files are
 * generated at test time (the 2 GiB shard is sparse).
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeTrace } from '../../src/trace/file-writer.ts';
import { makeTrace } from '../../src/trace/test-fixtures.ts';
import { badGraphModel, writeJson } from './fixtures.ts';
import { describeRun, runExray, type HostileRun } from './harness.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-messages-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CAPS = { rssCapMB: 600, timeoutMs: 60_000, maxOldSpaceMB: 512 };
const run = (args: string[]): Promise<HostileRun> => runExray(args, CAPS);

/** `code`, exactly one stderr line `exray: <prefix>…` matching `line`, no stack trace. */
function expectOneLine(r: HostileRun, code: number, line: RegExp): void {
  const why = describeRun(r);
  expect(r.timedOut, why).toBe(false);
  expect(r.code, why).toBe(code);
  expect(r.stderrLines, why).toHaveLength(1);
  expect(r.stderrLines[0]!.startsWith('exray: '), why).toBe(true);
  expect(r.stderrLines[0], why).toMatch(line);
  expect(r.stderr, why).not.toMatch(/^\s+at /m);
}
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function graphModel(dir: string, node: object[], weightsManifest: object[] = []): string {
  mkdirSync(dir, { recursive: true });
  return writeJson(join(dir, 'model.json'), { format: 'graph-model', modelTopology: { node, versions: { producer: 1 } }, weightsManifest });
}
const PLACEHOLDER = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '1' }, { size: '2' }] } } } };
const input = writeJson(join(tmp, 'x.json'), { shape: [1, 2], dtype: 'float32', data: [1, 2] });

/** Three traces: a, b (another model, same node names), c (a third model, no node name in common). */
function traces(): { a: string; b: string; c: string } {
  const a = makeTrace(1);
  const b = makeTrace(2);
  b.header.model = { ...b.header.model, name: 'other-model', sha256: 'b'.repeat(64) };
  const c = makeTrace(3);
  c.header.model = { ...c.header.model, name: 'third-model', sha256: 'c'.repeat(64) };
  for (const n of c.header.nodes) n.name = `renamed/${n.name}`;
  for (const k of c.header.kernels) if (k.node) k.node = `renamed/${k.node}`;
  const files = { a: join(tmp, 'a.exray'), b: join(tmp, 'b.exray'), c: join(tmp, 'c.exray') };
  writeFileSync(files.a, encodeTrace(a));
  writeFileSync(files.b, encodeTrace(b));
  writeFileSync(files.c, encodeTrace(c));
  return files;
}
const T = traces();

describe('one error style (issue #15 item 5)', { timeout: 120_000 }, () => {
  it('usage errors: one line naming the command\'s help, exit 2, not the whole help', async () => {
    const [unknown, missing, choice, bad, command] = await Promise.all([
      run(['trace', 'm', '--bogus']),
      run(['compare', T.a]),
      run(['trace', 'm', '--backend', 'frob']),
      run(['latency', T.a, '--top', 'x']),
      run(['frobnicate']),
    ]);
    expectOneLine(unknown, 2, /^exray: unknown option '--bogus' \(see exray trace --help\)$/);
    expectOneLine(missing, 2, /^exray: missing required argument 'ref' \(see exray compare --help\)$/);
    expectOneLine(choice, 2, /^exray: option '--backend <name>' argument 'frob' is invalid\. Allowed choices are .* \(see exray trace --help\)$/);
    expectOneLine(bad, 2, /^exray: option '--top <n>' argument 'x' is invalid\. expected a positive integer \(see exray latency --help\)$/);
    expectOneLine(command, 2, /^exray: unknown command 'frobnicate' \(see exray --help\)$/);
  });

  it('an op TF.js does not know: the model file, the op and the node, at load', async () => {
    const model = graphModel(join(tmp, 'unknown-op'), [PLACEHOLDER, { name: 'weird_node', op: 'FrobnicateV9', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } }]);
    const out = join(tmp, 'unknown-op.exray');
    const r = await run(['trace', model, '--input', input, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', out]);
    expectOneLine(r, 2, new RegExp(`^exray: ${esc(model)}: op FrobnicateV9 \\(node weird_node\\) is not supported by TF\\.js 4\\.\\d+\\.\\d+$`));
    expect(existsSync(out)).toBe(false);
  });

  it('a weight shard over 2 GiB (sparse): the shard named before a byte is read', async () => {
    const dir = join(tmp, 'big-shard');
    const floats = 2 ** 29 + 1;
    const model = graphModel(dir, [PLACEHOLDER, { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } }, { name: 'y', op: 'Relu', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } }], [
      { paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [floats], dtype: 'float32' }] },
    ]);
    const shard = join(dir, 'group1-shard1of1.bin');
    closeSync(openSync(shard, 'w'));
    truncateSync(shard, floats * 4);
    const r = await run(['trace', model, '--input', input, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', join(tmp, 'big.exray')]);
    expectOneLine(r, 2, new RegExp(`^exray: ${esc(shard)}: weight shard is 2,147,483,652 bytes, over the limit of 2 GiB \\(EXRAY_MAX_FILE_BYTES raises it\\)$`));
    expect(r.peakRssMB, describeRun(r)).toBeLessThan(600);
  });

  it('diagnose against a cyclic model: the model file and the cycle', async () => {
    const dir = join(tmp, 'cyclic');
    mkdirSync(dir, { recursive: true });
    const model = writeJson(join(dir, 'model.json'), badGraphModel('cycle'));
    const r = await run(['diagnose', T.a, '--model', dir]);
    expectOneLine(r, 2, new RegExp(`^exray: ${esc(model)}: modelTopology\\.node has a cycle`));
  });

  it('compare, latency and export --ref refuse traces of different models, naming both files and models', async () => {
    const me = join(tmp, 'me.json');
    const [compare, latency, exported] = await Promise.all([
      run(['compare', T.a, T.b]),
      run(['latency', T.a, T.b, T.c]),
      run(['export', T.a, '--model-explorer', me, '--metric', 'nrmse', '--ref', T.b]),
    ]);
    const refused = (file: string, name: string, sha: string): RegExp =>
      new RegExp(`^exray: ${esc(file)}: ran model "${name}" \\(sha256 ${sha}…\\), but ${esc(T.a)} ran model "mobilenet-mini" \\(sha256 a{12}…\\): traces of different models are not compared \\(--allow-different-models matches their nodes by name\\)$`);
    expectOneLine(compare, 2, refused(T.b, 'other-model', 'b'.repeat(12)));
    expectOneLine(latency, 2, refused(T.b, 'other-model', 'b'.repeat(12)));
    expectOneLine(exported, 2, refused(T.b, 'other-model', 'b'.repeat(12)));
    expect(existsSync(me)).toBe(false);
  });

  it('--allow-different-models: compare runs, latency never titles them as one, export refuses an empty result', async () => {
    const me = join(tmp, 'me-c.json');
    const [compare, latency, exported] = await Promise.all([
      run(['compare', T.a, T.b, '--allow-different-models']),
      run(['latency', T.a, T.b, T.c, '--allow-different-models']),
      run(['export', T.a, '--model-explorer', me, '--metric', 'nrmse', '--ref', T.c, '--allow-different-models']),
    ]);
    expect(compare.code, describeRun(compare)).not.toBe(2);
    expect(compare.stdout).toMatch(/model sha256 differs/);
    expect(latency.code, describeRun(latency)).toBe(0);
    expect(latency.stdout.split('\n')[0]).toMatch(/^Latency of 3 different models \(mobilenet-mini aaaaaaaa…, other-model bbbbbbbb…, third-model cccccccc…\)/);
    expectOneLine(exported, 2, new RegExp(`^exray: ${esc(T.c)}: no node of ${esc(T.a)} has a nrmse against this reference`));
    expect(existsSync(me)).toBe(false);
  });
});
