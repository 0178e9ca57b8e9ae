/**
 * Hostile inputs against the limits of docs/limits.md (issue #15, items 1 and 2), each a real CLI run in
 * a child process under a memory and a time cap (harness.ts): exit 2, one `exray: <file>: …` line naming
 * the file, peak RSS under the cap, and no output file. Everything is generated at test time and small on
 * disk (a PNG header claiming 16000×16000, a trace whose one blob declares 3.9 GB of deflated zeros, a
 * cyclic model.json, a 60k-node ONNX). The slow real-size cases are in scripts/hostile-slow.ts
 * (`npm run test:hostile-slow`).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOnnx, describeOnnx } from '../../src/onnx/model.ts';
import { checkTfjsGraph } from '../../src/models/graph-check.ts';
import { badGraphModel, bigPngHeader, bombTrace, cyclicLayersModel, identityOnnx, writeJson } from './fixtures.ts';
import { describeRun, runExray, ROOT, type HostileOptions, type HostileRun } from './harness.ts';

const MODEL = join(ROOT, 'models', 'emotion');
const PHOTO = join(ROOT, 'public', 'samples', 'astronaut.png');
const FAST = ['--runs', '1', '--warmup', '0'];
const tmp = mkdtempSync(join(tmpdir(), 'exray-limits-'));
/** Every run's peak RSS must stay under this (MB): far below what the unguarded cases took (2–10 GB). */
const RSS_CAP = 400;
/** The time cap is generous: the refusals take 1–3 s, but the two cores are shared with other test files. */
const CAPS: HostileOptions = { rssCapMB: RSS_CAP, timeoutMs: 45_000, maxOldSpaceMB: 256 };
/** At most this many CLI children at once (two cores). */
const PARALLEL = 3;
let running = 0;
const waiting: (() => void)[] = [];

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const results: string[] = [];
async function run(args: string[], opts: HostileOptions = {}): Promise<HostileRun> {
  if (running >= PARALLEL) await new Promise<void>((go) => waiting.push(go));
  running++;
  let r: HostileRun;
  try {
    r = await runExray(args, { ...CAPS, ...opts });
  } finally {
    running--;
    waiting.shift()?.();
  }
  results.push(`${args.join(' ').replaceAll(tmp, '$TMP').replaceAll(ROOT + '/', '')}: ${describeRun(r).replaceAll(tmp, '$TMP')}`);
  return r;
}

/** Exit 2, exactly one line `exray: <file>: <problem>`, within the caps. */
function expectRefused(r: HostileRun, file: string, problem: RegExp): void {
  const why = describeRun(r);
  expect(r.timedOut, why).toBe(false);
  expect(r.rssExceeded, why).toBe(false);
  expect(r.code, why).toBe(2);
  expect(r.stderrLines, why).toHaveLength(1);
  const line = r.stderrLines[0]!;
  expect(line.startsWith(`exray: ${file}: `), why).toBe(true);
  expect(line.slice(`exray: ${file}: `.length), why).toMatch(problem);
  expect(r.peakRssMB, why).toBeLessThan(RSS_CAP);
}

function outPath(name: string): string {
  return join(tmp, name);
}

afterAll(() => {
  process.stderr.write(`\nhostile limits:\n  ${results.join('\n  ')}\n`);
});

describe('hostile inputs: limits (docs/limits.md)', { concurrent: true }, () => {
  it('devices, FIFOs: refused before a byte is read', async () => {
    const out = outPath('dev.exray');
    writeJson(join(tmp, 'dev-in.json'), { shape: [1, 2], data: [1, 2] });
    const [inspect, image, model] = await Promise.all([
      run(['inspect', '/dev/zero']),
      run(['trace', MODEL, '--image', '/dev/zero', '--out', out, ...FAST]),
      run(['trace', '/dev/zero', '--input', join(tmp, 'dev-in.json'), '--out', out, ...FAST]),
    ]);
    expectRefused(inspect, '/dev/zero', /character device/);
    expectRefused(image, '/dev/zero', /character device/);
    expect(model.code, describeRun(model)).toBe(2);
    expect(model.stderrLines, describeRun(model)).toHaveLength(1);
    expect(model.stderrLines[0]).toMatch(/^exray: \/dev\/zero/);
    expect(model.peakRssMB).toBeLessThan(RSS_CAP);
    expect(existsSync(out)).toBe(false);
  });

  it('a 7 MB-class trace whose one blob declares 3.9 GB: inspect and latency read the header only, compare refuses the blob', async () => {
    const f = join(tmp, 'bomb.exray');
    writeFileSync(f, bombTrace());
    const [inspect, latency, compare] = await Promise.all([
      run(['inspect', f]),
      run(['latency', f, f, f]),
      run(['compare', f, f, '--json']),
    ]);
    for (const r of [inspect, latency]) {
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.peakRssMB, describeRun(r)).toBeLessThan(200);
    }
    expectRefused(compare, f, /blob tensors\/bomb\.bin inflates to 3\.63 GiB, over the limit of 1 GiB per blob \(EXRAY_MAX_BLOB_BYTES raises it\)/);
  });

  it('a PNG claiming 16000×16000 is refused from its header, before decoding', async () => {
    const png = join(tmp, 'huge.png');
    writeFileSync(png, bigPngHeader(16000, 16000));
    const out = outPath('huge.exray');
    const r = await run(['trace', MODEL, '--image', png, '--out', out, ...FAST]);
    expectRefused(r, png, /pixel count \(16000×16000\) is 256,000,000, over the limit of 100,000,000 \(EXRAY_MAX_IMAGE_PIXELS raises it\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('a card asking for a 30000×30000 pre-processing output', async () => {
    const dir = join(tmp, 'bigcard');
    cpSync(MODEL, dir, { recursive: true });
    const card = JSON.parse(readFileSync(join(dir, 'exray.json'), 'utf8')) as { inputs: { preprocess: { width: number; height: number } }[] };
    card.inputs[0]!.preprocess.width = 30000;
    card.inputs[0]!.preprocess.height = 30000;
    // Unknown spatial dims, so the schema's shape/size agreement does not refuse it first.
    (card.inputs[0] as unknown as { shape: (number | null)[] }).shape = [null, null, null, 1];
    writeJson(join(dir, 'exray.json'), card);
    const out = outPath('bigcard.exray');
    const r = await run(['trace', dir, '--image', PHOTO, '--out', out, ...FAST]);
    expectRefused(r, join(dir, 'exray.json'), /30000×30000 output .* over the limit of 16,777,216 \(EXRAY_MAX_PREPROCESS_PIXELS raises it\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('cyclic and dangling model graphs are refused in linear time before TF.js sees them', async () => {
    const mk = (name: string, json: object): string => {
      const dir = join(tmp, name);
      mkdirSync(dir, { recursive: true });
      writeJson(join(dir, 'model.json'), json);
      return dir;
    };
    const npy = join(tmp, 'two.json');
    writeJson(npy, { shape: [1, 2], data: [1, 2] });
    const layers = mk('cyclic-layers', cyclicLayersModel());
    const cycle = mk('cyclic-graph', badGraphModel('cycle'));
    const dangling = mk('dangling-graph', badGraphModel('dangling'));
    const [a, b, c] = await Promise.all(
      [layers, cycle, dangling].map((d) => run(['trace', d, '--input', npy, '--backend', 'cpu', '--out', outPath(`${d.split('/').pop()}.exray`), ...FAST])),
    );
    expectRefused(a!, join(layers, 'model.json'), /inbound_nodes form a cycle \(through "dense_a", "dense_b"\)/);
    expectRefused(b!, join(cycle, 'model.json'), /has a cycle \(through "b", "c"\)/);
    expectRefused(c!, join(dangling, 'model.json'), /node "b" reads "nowhere:0", which no node of modelTopology.node produces/);
    for (const d of [layers, cycle, dangling]) expect(existsSync(outPath(`${d.split('/').pop()}.exray`))).toBe(false);
  });

  it('graph checks are linear: 100k chained graph nodes', () => {
    const n = 100_000;
    const node = [{ name: 'n0', op: 'Placeholder' }];
    for (let i = 1; i < n; i++) node.push({ name: `n${i}`, op: 'Relu', input: [`n${i - 1}`] } as (typeof node)[number]);
    const t = performance.now();
    checkTfjsGraph({ modelTopology: { node } }, 'model.json', n);
    // Linear: well under a second on a quiet machine; the bound leaves room for two busy cores (a
    // quadratic check would take minutes at this size).
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(() => checkTfjsGraph({ modelTopology: { node } }, 'model.json', n - 1)).toThrow(/100,000 nodes, over the limit of 99,999 \(EXRAY_MAX_NODES raises it\)/);
  });

  it('ONNX description is linear: 60k parallel Identity nodes (194 s before) in seconds; the node limit applies', async () => {
    const bytes = identityOnnx(60_000);
    const t = performance.now();
    const info = describeOnnx(decodeOnnx(bytes, 'many.onnx'));
    expect(info.nodes).toHaveLength(60_000);
    expect(performance.now() - t).toBeLessThan(10_000);
    const f = join(tmp, 'many.onnx');
    writeFileSync(f, bytes);
    const x = join(tmp, 'x1.json');
    writeJson(x, { shape: [1], data: [1] });
    const r = await run(['trace', f, '--input', x, '--backend', 'cpu', '--out', outPath('many.exray'), ...FAST], { env: { EXRAY_MAX_NODES: '10000' } });
    expectRefused(r, f, /has 60,000 nodes, over the limit of 10,000 \(EXRAY_MAX_NODES raises it\)/);
  });

  it('--runs / --warmup are bounded', async () => {
    const x = join(tmp, 'x.json');
    writeJson(x, { shape: [1, 64, 64, 1], data: new Array(64 * 64).fill(0) });
    const [runs, warmup] = await Promise.all([
      run(['trace', MODEL, '--input', x, '--runs', '1e9', '--out', outPath('runs.exray')]),
      run(['trace', MODEL, '--input', x, '--warmup', '5000', '--out', outPath('runs.exray')]),
    ]);
    expectRefused(runs, '--runs', /^1000000000 timed runs is over the limit of 1,000 \(EXRAY_MAX_RUNS raises it\)$/);
    expectRefused(warmup, '--warmup', /^5000 warm-up runs is over the limit of 100 \(EXRAY_MAX_WARMUP raises it\)$/);
    expect(existsSync(outPath('runs.exray'))).toBe(false);
  });

  it('tensor files: 1e39 in a float32 JSON input, a .npy claiming 2^40 elements', async () => {
    const json = join(tmp, 'inf.json');
    const data = new Array(64 * 64).fill(0);
    data[7] = 1e39;
    writeJson(json, { shape: [1, 64, 64, 1], data });
    const npy = join(tmp, 'huge.npy');
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    writeFileSync(npy, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from([(header.length + pad + 1) & 0xff, (header.length + pad + 1) >> 8]), Buffer.from(header + ' '.repeat(pad) + '\n', 'latin1'), Buffer.alloc(16)]));
    const [inf, huge] = await Promise.all([
      run(['trace', MODEL, '--input', json, '--out', outPath('inf.exray'), ...FAST]),
      run(['trace', MODEL, '--input', npy, '--out', outPath('npy.exray'), ...FAST]),
    ]);
    expectRefused(inf, json, /value 1e\+39 at index 7 is out of the float32 range .* it would become \+Infinity/);
    expectRefused(huge, npy, /1,099,511,627,776 elements, over the limit of 67,108,864 \(EXRAY_MAX_TENSOR_ELEMENTS raises it\)/);
    expect(existsSync(outPath('inf.exray'))).toBe(false);
  });
});
