/**
 * ISNet (1024×1024 segmentation, `@imgly/background-removal-data@1.4.5`, int8 and fp16) traced with
 * every node's values on the Node reference (onnxruntime-node cpu) and on onnxruntime-web wasm in Node, under a memory budget: passes, peak
 * RSS and time of `exray trace --capture stats --max-memory …`, side by side with the anchor of the same
 * run, `--capture timing --max-memory …` (the model run and profiled, no node values; the budget also
 * decides whether the timing sessions keep onnxruntime's memory pattern).
 *
 * The package (136 MB) is installed on demand, never by `npm ci` (test/wild/isnet-package.ts, shared
 * with `npm run test:wild`).
 *
 * `npm run bench:wild` (or EXRAY_BENCH_ONLY=wild npm run bench). Not part of `npm test`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExray } from '../test/hostile/harness.ts';
import { inputNpy, isnetModels } from '../test/wild/isnet-package.ts';
import type { BenchResult } from './types.ts';

const BUDGET = process.env.EXRAY_WILD_MAX_MEMORY ?? '768MiB';

/** cpu: the reference (onnxruntime-node); wasm: the edge side in Node (onnxruntime-web), where ISNet once died of std::bad_alloc. */
type Backend = 'cpu' | 'wasm';
const BACKENDS: Backend[] = ['cpu', 'wasm'];

interface Run {
  passes: number;
  peakMB: number;
  seconds: number;
  nodesWithValues: number;
  nodes: number;
  valueGiB: number;
}

async function traceOnce(model: string, input: string, out: string, backend: Backend, extra: string[]): Promise<Run> {
  const r = await runExray(['trace', model, '--input', input, '--backend', backend, '--runs', '1', '--warmup', '0', '--out', out, '--json', ...extra], {
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
    for (const [name, file] of Object.entries(models)) for (const backend of BACKENDS) {
      // The same budget: it decides the timing sessions' memory pattern (src/instrument/ort/session-options.ts).
      const anchor = await traceOnce(file, input, join(dir, `${name}-${backend}-timing.exray`), backend, ['--capture', 'timing', '--max-memory', BUDGET]);
      const stats = await traceOnce(file, input, join(dir, `${name}-${backend}-stats.exray`), backend, ['--capture', 'stats', '--max-memory', BUDGET]);
      process.stdout.write(
        `  isnet ${name} ${backend}: ${stats.nodesWithValues}/${stats.nodes} nodes with values (${stats.valueGiB.toFixed(1)} GiB as float32) in ${stats.passes} passes under ${BUDGET}: peak RSS ${stats.peakMB.toFixed(0)} MB, ${stats.seconds.toFixed(0)} s; anchor --capture timing --max-memory ${BUDGET}: ${anchor.peakMB.toFixed(0)} MB, ${anchor.seconds.toFixed(0)} s\n`,
      );
      results.push(
        { name: `isnet ${name} ${backend}: stats capture of every node under --max-memory ${BUDGET}: passes`, value: stats.passes, unit: 'passes' },
        { name: `isnet ${name} ${backend}: stats capture of every node: nodes with values`, value: stats.nodesWithValues, unit: `of ${stats.nodes}` },
        { name: `isnet ${name} ${backend}: stats capture of every node: node values read`, value: stats.valueGiB, unit: 'GiB (float32)' },
        { name: `isnet ${name} ${backend}: stats capture of every node under --max-memory ${BUDGET}: peak RSS`, value: stats.peakMB, unit: 'MB' },
        { name: `isnet ${name} ${backend}: stats capture of every node under --max-memory ${BUDGET}: wall time`, value: stats.seconds, unit: 's' },
        { name: `isnet ${name} ${backend}: anchor, --capture timing --max-memory ${BUDGET} (no node values): peak RSS`, value: anchor.peakMB, unit: 'MB' },
        { name: `isnet ${name} ${backend}: anchor, --capture timing --max-memory ${BUDGET} (no node values): wall time`, value: anchor.seconds, unit: 's' },
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
