/**
 * `npm run bench`: every benchmark, one process, results to bench/results.json ({name, value, unit}[])
 * and a readable bench/results.md. Ratios come from variants measured side by side in one run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { benchTracing } from './tracing.ts';
import { benchCompare } from './compare.ts';
import { benchBrowserTracing } from './browser.ts';
import { benchViewer } from './viewer.ts';
import { benchOrt } from './ort.ts';
import { benchDiagnose } from './diagnose.ts';
import { benchDiagnoseResize } from './diagnose-resize.ts';
import { benchStats } from './stats.ts';
import { benchServe } from './serve.ts';
import { benchAgent } from './agent.ts';
import { benchFarm } from './farm.ts';
import { benchCli } from './cli.ts';
import { benchTraceSize } from './trace-size.ts';
import { benchWildIsnet } from './wild-isnet.ts';
import type { BenchResult } from './types.ts';

const rounds = Number(process.env.EXRAY_BENCH_ROUNDS ?? 15);
const results: BenchResult[] = [];
// EXRAY_BENCH_ONLY=cli,stats,tracing,ort,compare,tracesize,diagnose,diagnose-resize,viewer,browser,serve,agent,farm runs only those sections.
const only = process.env.EXRAY_BENCH_ONLY?.split(',').map((s) => s.trim());
const section = async (title: string, f: () => Promise<BenchResult[]>, key: string): Promise<void> => {
  if (only && !only.includes(key)) return;
  process.stdout.write(`${title}…\n`);
  const r = await f();
  for (const x of r) process.stdout.write(`  ${x.name}: ${x.value.toPrecision(4)} ${x.unit}\n`);
  results.push(...r);
};

await section('CLI start: exray --help / --version, built CLI (dist-cli) vs sources through tsx, median of 7', () => benchCli(7), 'cli');
await section('tensor statistics: wasm SIMD kernel vs JS loops', () => benchStats(rounds), 'stats');
await section('tracing overhead, MobileNetV2 layers model, wasm', () =>
  benchTracing({ model: 'nsfw-mobilenet-v2', backend: 'wasm', rounds, image: 'public/samples/chelsea.png' }),
'tracing');
await section('tracing overhead, MobileNetV2 graph model, wasm', () =>
  benchTracing({ model: 'nsfw-mobilenet-v2-mid', backend: 'wasm', rounds, image: 'public/samples/chelsea.png' }),
'tracing');
await section('tracing overhead, MobileNetV2 graph model, cpu', () =>
  benchTracing({ model: 'nsfw-mobilenet-v2-mid', backend: 'cpu', rounds: Math.max(3, Math.round(rounds / 3)), image: 'public/samples/chelsea.png' }),
'tracing');
await section('ONNX Runtime tracing overhead, PaddleOCR recogniser (onnxruntime-node, onnxruntime-web wasm)', () => benchOrt(), 'ort');
await section('comparison throughput', () => benchCompare(), 'compare');
await section('trace size: blob encodings vs raw float32, write/read speed, float16/bfloat16 error', () => benchTraceSize(), 'tracesize');
await section('diagnosis: detection rate, false alarms, time', () => benchDiagnose(), 'diagnose');
await section('diagnosis: resize methods (sharp, bicubic/Lanczos3, canvas drawImage), before/after cost', () => benchDiagnoseResize(), 'diagnose-resize');
await section('viewer with a 1,000-node trace (Chromium)', () => benchViewer(), 'viewer');
await section('tracing overhead in Chromium, MobileNetV2 graph model, wasm and webgl (SwiftShader)', () =>
  // wasm as many rounds as Node's (5 were too few: the page's ratios moved by ±0.2 from run to run);
  // webgl on SwiftShader takes ~10× as long per round.
  benchBrowserTracing('nsfw-mobilenet-v2-mid', { wasm: rounds, webgl: Math.max(3, Math.round(rounds / 3)) }, 'public/samples/chelsea.png'),
'browser');

await section('phone link: exray serve on loopback (throughput, forwarding latency, memory under 20 sessions)', () => benchServe(), 'serve');

await section('the agent inside an app: timing-only and captured inferences, MobileNetV2 graph model, wasm', () => benchAgent(rounds), 'agent');

await section('exray farm: 2 models × 3 emulated devices × 2 backends (wasm, webgl), --jobs 1 and 2', () => benchFarm(), 'farm');

// Only when asked for (EXRAY_BENCH_ONLY=wild, `npm run bench:wild`): it installs a 136 MB package on first use and runs for many minutes.
if (only?.includes('wild')) {
  await section('models in the wild: ISNet 1024² int8 and fp16, every node\'s values on onnxruntime-node and wasm under --max-memory (issue #14)', () => benchWildIsnet(), 'wild');
}

await mkdir('bench', { recursive: true });
if (only) {
  // A partial run updates its own figures in the last full run's file and keeps the others.
  const earlier = JSON.parse(await readFile('bench/results.json', 'utf8').catch(() => '[]')) as BenchResult[];
  const fresh = new Set(results.map((r) => r.name));
  results.unshift(...earlier.filter((r) => !fresh.has(r.name)));
}
await writeFile('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
const md = [
  `# exray benchmark results`,
  ``,
  `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${rounds} rounds`,
  ``,
  `| benchmark | value | unit |`,
  `|---|---|---|`,
  ...results.map((r) => `| ${r.name} | ${r.value.toPrecision(4)} | ${r.unit} |`),
  ``,
].join('\n');
await writeFile('bench/results.md', md);
process.stdout.write(`\nwrote bench/results.json and bench/results.md\n`);
