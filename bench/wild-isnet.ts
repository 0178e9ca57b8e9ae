/**
 * ISNet (1024×1024 segmentation, `@imgly/background-removal-data@1.4.5`, int8 and fp16) traced with
 * every node's values on the Node reference (onnxruntime-node cpu) under a memory budget: passes, peak
 * RSS and time of `exray trace --capture stats --max-memory …`, side by side with the anchor of the same
 * run, `--capture timing` (the model run and profiled, no node values).
 *
 * The package (136 MB) is not a dependency: it is installed on demand into ~/.cache/exray-wild
 * (`EXRAY_WILD_CACHE`) with `npm install --prefix … --no-save`, never by `npm ci`. Its models ship as
 * 4 MiB chunks named by their sha256 (dist/resources.json); they are joined and checked here. The input
 * is public/samples/chelsea.png stretched to 1024², normalised as the package's own pre-processing
 * does ((x − 128) / 256).
 *
 * `npm run bench:wild` (or EXRAY_BENCH_ONLY=wild npm run bench). Not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runExray } from '../test/hostile/harness.ts';
import type { BenchResult } from './types.ts';

const ROOT = join(import.meta.dirname, '..');
const PACKAGE = '@imgly/background-removal-data@1.4.5';
const CACHE = process.env.EXRAY_WILD_CACHE ?? join(homedir(), '.cache', 'exray-wild');
const BUDGET = process.env.EXRAY_WILD_MAX_MEMORY ?? '768MiB';

interface Resource {
  chunks: { hash: string; offsets: [number, number] }[];
  size: number;
}

/** The package in the cache (installed when missing), and its two ISNet models joined from their chunks. */
export function isnetModels(): { int8: string; fp16: string } {
  const dist = join(CACHE, 'node_modules', '@imgly', 'background-removal-data', 'dist');
  if (!existsSync(join(dist, 'resources.json'))) {
    mkdirSync(CACHE, { recursive: true });
    process.stdout.write(`  installing ${PACKAGE} into ${CACHE} (136 MB, once)\n`);
    execFileSync('npm', ['install', '--prefix', CACHE, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', PACKAGE], { stdio: 'inherit' });
  }
  const resources = JSON.parse(readFileSync(join(dist, 'resources.json'), 'utf8')) as Record<string, Resource>;
  const join1 = (key: string, out: string): string => {
    const file = join(CACHE, out);
    const r = resources[key];
    if (!r) throw new Error(`${PACKAGE}: no ${key} in resources.json`);
    if (existsSync(file) && readFileSync(file).length === r.size) return file;
    const parts = r.chunks.map((c) => {
      const b = readFileSync(join(dist, c.hash));
      const sum = createHash('sha256').update(b).digest('hex');
      if (sum !== c.hash) throw new Error(`${PACKAGE}: chunk ${c.hash} has sha256 ${sum}`);
      return b;
    });
    const all = Buffer.concat(parts);
    if (all.length !== r.size) throw new Error(`${PACKAGE}: ${key} is ${all.length} bytes, resources.json says ${r.size}`);
    writeFileSync(file, all);
    return file;
  };
  return { int8: join1('/models/small', 'isnet-int8.onnx'), fp16: join1('/models/medium', 'isnet-fp16.onnx') };
}

/** chelsea.png as the models' [1,3,1024,1024] input, a float32 .npy. */
async function inputNpy(dir: string): Promise<string> {
  const { data } = await sharp(join(ROOT, 'public', 'samples', 'chelsea.png')).removeAlpha().resize(1024, 1024, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const n = 1024 * 1024;
  const f = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) f[c * n + i] = (data[i * 3 + c]! - 128) / 256;
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1024, 1024), }";
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  const file = join(dir, 'chelsea-1024.npy');
  writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(f.buffer)]));
  return file;
}

interface Run {
  passes: number;
  peakMB: number;
  seconds: number;
  nodesWithValues: number;
  nodes: number;
  valueGiB: number;
}

async function traceOnce(model: string, input: string, out: string, extra: string[]): Promise<Run> {
  const r = await runExray(['trace', model, '--input', input, '--backend', 'cpu', '--runs', '1', '--warmup', '0', '--out', out, '--json', ...extra], {
    rssCapMB: 12_000,
    maxOldSpaceMB: 4096,
    timeoutMs: 30 * 60_000,
    sampleMs: 50,
  });
  if (r.code !== 0) throw new Error(`exray trace ${model} ${extra.join(' ')}: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
  const h = JSON.parse(r.stdout) as { nodes: { outputs: { stats?: { count: number } }[] }[]; capturePlan?: { passes: number } };
  const withValues = h.nodes.filter((n) => n.outputs.some((o) => o.stats));
  const bytes = h.nodes.reduce((s, n) => s + n.outputs.reduce((t, o) => t + (o.stats ? o.stats.count * 4 : 0), 0), 0);
  return { passes: h.capturePlan?.passes ?? 0, peakMB: r.peakRssMB, seconds: r.ms / 1000, nodesWithValues: withValues.length, nodes: h.nodes.length, valueGiB: bytes / 1024 ** 3 };
}

export async function benchWildIsnet(): Promise<BenchResult[]> {
  const models = isnetModels();
  const dir = mkdtempSync(join(tmpdir(), 'exray-bench-isnet-'));
  const results: BenchResult[] = [];
  try {
    const input = await inputNpy(dir);
    for (const [name, file] of Object.entries(models)) {
      const anchor = await traceOnce(file, input, join(dir, `${name}-timing.exray`), ['--capture', 'timing']);
      const stats = await traceOnce(file, input, join(dir, `${name}-stats.exray`), ['--capture', 'stats', '--max-memory', BUDGET]);
      process.stdout.write(
        `  isnet ${name}: ${stats.nodesWithValues}/${stats.nodes} nodes with values (${stats.valueGiB.toFixed(1)} GiB as float32) in ${stats.passes} passes under ${BUDGET}: peak RSS ${stats.peakMB.toFixed(0)} MB, ${stats.seconds.toFixed(0)} s; anchor --capture timing: ${anchor.peakMB.toFixed(0)} MB, ${anchor.seconds.toFixed(0)} s\n`,
      );
      results.push(
        { name: `isnet ${name} cpu: stats capture of every node under --max-memory ${BUDGET}: passes`, value: stats.passes, unit: 'passes' },
        { name: `isnet ${name} cpu: stats capture of every node: nodes with values`, value: stats.nodesWithValues, unit: `of ${stats.nodes}` },
        { name: `isnet ${name} cpu: stats capture of every node: node values read`, value: stats.valueGiB, unit: 'GiB (float32)' },
        { name: `isnet ${name} cpu: stats capture of every node under --max-memory ${BUDGET}: peak RSS`, value: stats.peakMB, unit: 'MB' },
        { name: `isnet ${name} cpu: stats capture of every node under --max-memory ${BUDGET}: wall time`, value: stats.seconds, unit: 's' },
        { name: `isnet ${name} cpu: anchor, --capture timing (no node values): peak RSS`, value: anchor.peakMB, unit: 'MB' },
        { name: `isnet ${name} cpu: anchor, --capture timing (no node values): wall time`, value: anchor.seconds, unit: 's' },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
