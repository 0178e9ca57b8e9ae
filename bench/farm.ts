/**
 * `exray farm` throughput: a 2 models × 3 devices × 2 backends matrix (emotion and BlazeFace, TF.js;
 * three emulated phones on the local Chromium; wasm and webgl), one photo, with --jobs 1 and
 * --jobs 2: wall time and cells per minute. References and the page build are outside the timed
 * part only in the sense that both runs pay them; the second run reuses the built page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFarmConfig } from '../src/farm/config.ts';
import { runFarm } from '../src/farm/run.ts';
import type { BenchResult } from './types.ts';

export async function benchFarm(): Promise<BenchResult[]> {
  const tmp = await mkdtemp(join(tmpdir(), 'exray-bench-farm-'));
  const results: BenchResult[] = [];
  try {
    for (const jobs of [1, 2]) {
      const cfg = parseFarmConfig({
        models: ['models/emotion', 'models/blazeface'],
        inputs: ['public/samples/chelsea.png'],
        backends: ['wasm', 'webgl'],
        devices: [{ emulate: 'Pixel 7' }, { emulate: 'iPhone 13' }, { emulate: 'Galaxy S9+' }],
        jobs,
        retries: 0,
        diagnose: false,
        out: join(tmp, `jobs${jobs}`),
      }, 'bench farm');
      const t0 = performance.now();
      const { summary } = await runFarm(cfg, { configFile: 'bench farm' });
      const s = (performance.now() - t0) / 1000;
      const ran = summary.totals.cells - summary.totals.skipped;
      if (summary.totals.errors) throw new Error(`farm bench: ${summary.totals.errors} cells errored: ${summary.cells.find((c) => c.status === 'error')?.reason}`);
      results.push({ name: `farm 2×3×2 matrix, --jobs ${jobs}: wall time`, value: s, unit: 's' });
      results.push({ name: `farm 2×3×2 matrix, --jobs ${jobs}: cells per minute`, value: (ran / s) * 60, unit: 'cells/min' });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return results;
}
