/**
 * NodeReadyMemory (src/reference/ready-memory-node.ts, the policy: src/trace/ready-memory.ts): the
 * buffers a capture is about to take, or took, made on a thread of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NodeReadyMemory } from '../src/reference/ready-memory-node.ts';

const live: NodeReadyMemory[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((m) => m.close()));
});
function memory(maxBytes?: number): NodeReadyMemory {
  const m = new NodeReadyMemory(maxBytes === undefined ? {} : { maxBytes });
  live.push(m);
  return m;
}
/** One capture taking buffers of these sizes; the buffers it got. */
async function capture(m: NodeReadyMemory, sizes: number[]): Promise<(ArrayBufferLike | null)[]> {
  const got = sizes.map((n) => m.take(n));
  m.captureEnded();
  await m.idle();
  return got;
}

describe('NodeReadyMemory', () => {
  it('has nothing before the second capture; after it, a buffer of each size it took, zero-filled and shared', async () => {
    const m = memory();
    // The first capture: a process that captures once (exray trace) gets no memory made ready for a next one.
    expect(await capture(m, [4096])).toEqual([null]);
    expect(m.heldBytes).toBe(0);
    expect(await capture(m, [4096, 1 << 20, 4096])).toEqual([null, null, null]);
    expect(m.heldBytes).toBe(2 * 4096 + (1 << 20));
    const [a, b, c, d] = await capture(m, [1 << 20, 4096, 4096, 8192]);
    expect(a).toBeInstanceOf(SharedArrayBuffer);
    expect(a!.byteLength).toBe(1 << 20);
    expect(new Uint8Array(a!).every((x) => x === 0)).toBe(true);
    expect(b).not.toBe(c);
    expect([b!.byteLength, c!.byteLength]).toEqual([4096, 4096]);
    // A size the last capture did not take is not held.
    expect(d).toBeNull();
    // … and what this one took is made again.
    expect(m.heldBytes).toBe((1 << 20) + 2 * 4096 + 8192);
  });

  it('what a capture left is dropped, what it took is made again, no more than maxBytes', async () => {
    const m = memory(10_000);
    await capture(m, [4000]);
    await capture(m, [4000, 4000, 4000]);
    expect(m.heldBytes).toBe(8000);
    // This capture took one of the two: the one it left is dropped, the one it took made again.
    expect((await capture(m, [4000]))[0]).not.toBeNull();
    expect(m.heldBytes).toBe(4000);
    // A capture that took nothing leaves what is ready.
    await capture(m, []);
    expect(m.heldBytes).toBe(4000);
  });

  it('a capture about to run gets what it expects, before any capture, beside what is ready, within maxBytes', async () => {
    const m = memory(24_000);
    m.expect([4096, 8192, 4096]);
    await m.idle();
    expect(m.heldBytes).toBe(16_384);
    // What is ready counts: expecting it again makes only what is missing (one more 4096 than ready).
    m.expect([4096, 4096, 4096]);
    await m.idle();
    expect(m.heldBytes).toBe(16_384 + 4096);
    // Past maxBytes nothing more is made (a second 8192); a size that fits still is.
    m.expect([8192, 8192, 2048]);
    await m.idle();
    expect(m.heldBytes).toBe(16_384 + 4096 + 2048);
    const got = [m.take(4096), m.take(4096), m.take(4096), m.take(8192), m.take(2048), m.take(4096), m.take(8192)];
    expect(got.map((b) => b?.byteLength ?? null)).toEqual([4096, 4096, 4096, 8192, 2048, null, null]);
    expect(got[0]).toBeInstanceOf(SharedArrayBuffer);
    expect(new Set(got).size).toBe(6);
    expect(m.heldBytes).toBe(0);
    // The first capture ends: nothing is made for a next one (the process may never capture again).
    m.captureEnded();
    await m.idle();
    expect(m.heldBytes).toBe(0);
  });

  it('a wait for memory being made is bounded', async () => {
    const m = memory();
    m.expect([64 << 20]);
    const t0 = performance.now();
    await m.idle(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    await m.idle();
    expect(m.heldBytes).toBe(64 << 20);
  });

  it('a closed one gives nothing and holds nothing', async () => {
    const m = memory();
    await capture(m, [4096]);
    await capture(m, [4096]);
    expect(m.heldBytes).toBe(4096);
    await m.close();
    expect(m.take(4096)).toBeNull();
    expect(m.heldBytes).toBe(0);
    m.captureEnded();
    await m.idle();
  });
});
