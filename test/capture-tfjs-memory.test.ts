/**
 * TF.js tensors captures with statistics computed where they run and each copy made into ready memory
 * (the `memory` option: the page's way, run-job.ts, with a WebReadyMemory; here a NodeReadyMemory,
 * the same policy, src/trace/ready-memory.ts). The trace must be the plain capture's, every copy must
 * go into the memory made ready while the timing passes ran, and each node must still be handed on
 * as it ends, during the run (what lets the page's rows stream), unlike with a statistics pool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturePass, captureOptions, traceModel, type ModelInputs } from '../src/instrument/tfjs/index.ts';
import type { TfjsModel } from '../src/instrument/tfjs/hooks.ts';
import { NodeReadyMemory } from '../src/reference/ready-memory-node.ts';
import { NodeStatsPool } from '../src/reference/stats-pool-node.ts';
import type { Trace } from '../src/trace/types.ts';
import { tf } from './helpers.ts';
import { WatchedRunner, withSample } from './capture-helpers.ts';
import { expectSameTrace } from './same-trace.ts';

const pool = new NodeStatsPool({ threads: 1, prefaults: false });
beforeAll(async () => expect(await pool.whenReady()).toBe(true), 60_000);
afterAll(() => pool.close());

/** Whether each node was handed on while the run was going on, with these capture options. */
async function handedDuringRun(model: TfjsModel, x: ModelInputs, backend: string, opts: Parameters<typeof captureOptions>[2]): Promise<boolean[]> {
  const runner = new WatchedRunner(model, x);
  const during: boolean[] = [];
  const r = await capturePass(runner, backend, () => during.push(runner.running), captureOptions('tensors', 32, opts));
  tf.dispose(r.outputs);
  return during;
}

/** The node blobs of a trace, and how many lie in shared memory (NodeReadyMemory's). */
function nodeBlobs(t: Trace): { count: number; shared: number } {
  const ids = t.header.nodes.flatMap((n) => n.outputs.flatMap((o) => (o.blob ? [o.blob.id] : [])));
  return { count: ids.length, shared: ids.filter((id) => t.blobs.get(id)!.buffer instanceof SharedArrayBuffer).length };
}

async function check(model: TfjsModel, x: ModelInputs, backend: string): Promise<void> {
  const memory = new NodeReadyMemory();
  try {
    const opts = { capture: 'tensors' as const, runs: 1, warmup: 0 };
    const here = await traceModel(model, x, opts);
    const ready = await traceModel(model, x, { ...opts, memory });
    expectSameTrace(ready, here);
    // The first capture: what it would copy was made ready while its timing passes ran (from the
    // first pass's shapes), and every node's copy went there: the trace's arrays are that memory's
    // (not copied again), the inputs and final outputs (read outside the capture pass) are not.
    const blobs = nodeBlobs(ready);
    expect(blobs.count).toBeGreaterThan(0);
    expect(memory.given).toBe(blobs.count);
    expect(blobs.shared).toBe(blobs.count);
    expect(nodeBlobs(here).shared).toBe(0);
    // Nodes go on as they end, during the run; with statistics on a pool's threads they wait for its end.
    const withMemory = await handedDuringRun(model, x, backend, { memory });
    expect(withMemory.length).toBe(here.header.nodes.length);
    expect(withMemory.every(Boolean)).toBe(true);
    const withPool = await handedDuringRun(model, x, backend, { statsPool: pool });
    expect(withPool.length).toBe(here.header.nodes.length);
    expect(withPool.some(Boolean)).toBe(false);
  } finally {
    await memory.close();
  }
}

describe('statistics here, copies into ready memory', () => {
  it('wasm: MobileNetV2 graph model', () => withSample('nsfw-mobilenet-v2-mid', 'wasm', (model, x) => check(model, x, 'wasm')));
  it('cpu: emotion (layers model), the backend\'s arrays copied once, into that memory', () => withSample('emotion', 'cpu', (model, x) => check(model, x, 'cpu')));
});
