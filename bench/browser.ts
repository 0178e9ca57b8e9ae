/**
 * Browser benchmarks (headless Chromium through the runner page): tracing overhead on wasm and webgl
 * side by side in the page. The viewer benchmark is bench/viewer.ts.
 */
import { join } from 'node:path';
import { openRunnerPage } from '../src/cli/browser.ts';
import { modelHash } from '../src/models/hash.ts';
import { loadModelCard } from '../src/models/card.ts';
import { decodeImageFile } from '../src/preprocess/decode-node.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { BenchRequest } from '../src/browser-runner/protocol.ts';
import type { BenchResult } from './types.ts';

/** `rounds` per backend: every variant and anchor of a backend runs as many, side by side. */
export async function benchBrowserTracing(model: string, rounds: Partial<Record<'wasm' | 'webgl', number>>, image: string): Promise<BenchResult[]> {
  const backends = Object.keys(rounds) as ('wasm' | 'webgl')[];
  const dir = join('models', model);
  const card = await loadModelCard(join(dir, 'exray.json'));
  const spec = card.inputs[0]!.preprocess!;
  const { image: img, source } = await decodeImageFile(image);
  const t = preprocess(img, source.exifOrientation, spec);
  const data = t.data;
  const results: BenchResult[] = [];
  // EXRAY_BENCH_BROWSER_BACKENDS=wasm: only those (webgl on SwiftShader takes most of the section's time).
  const chosen = process.env.EXRAY_BENCH_BROWSER_BACKENDS?.split(',').map((s) => s.trim());
  for (const backend of backends.filter((b) => !chosen || chosen.includes(b))) {
    // A fresh page per backend: TF.js flags take effect only before a backend starts.
    const session = await openRunnerPage(dir);
    try {
      const req: BenchRequest = {
        model: { name: model, sha256: await modelHash(dir), async: card.execution === 'async', modelFile: card.modelFile },
        input: { name: card.inputs[0]!.name, shape: t.shape, dtype: t.dtype, base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') },
        backend,
        options: { webglF16: false, webglPack: true, wasmThreads: false, wasmSimd: true },
        rounds: rounds[backend]!,
      };
      const r = (await session.page.evaluate((q) => (globalThis as unknown as { exrayBench(x: unknown): Promise<unknown> }).exrayBench(q), req)) as BenchResult[];
      results.push(...r);
    } finally {
      await session.close();
    }
  }
  return results;
}
