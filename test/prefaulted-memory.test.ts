/** PrefaultedMemory (src/reference/prefaulted-memory.ts): the buffers a capture took, made again on its own thread. */
import { afterEach, describe, expect, it } from 'vitest';
import { PrefaultedMemory } from '../src/reference/prefaulted-memory.ts';

const live: PrefaultedMemory[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((m) => m.close()));
});
function memory(maxBytes?: number): PrefaultedMemory {
  const m = new PrefaultedMemory(maxBytes === undefined ? {} : { maxBytes });
  live.push(m);
  return m;
}

describe('PrefaultedMemory', () => {
  it('has nothing before the second capture; after it, a buffer of each size it took, zero-filled and shared', async () => {
    const m = memory();
    // The first capture: a process that captures once (exray trace) gets no memory made ready for a next one.
    m.take(4096);
    await m.idle();
    expect(m.heldBytes).toBe(0);
    expect(m.take(4096)).toBeNull();
    expect(m.take(1 << 20)).toBeNull();
    expect(m.take(4096)).toBeNull();
    await m.idle();
    expect(m.heldBytes).toBe(2 * 4096 + (1 << 20));
    const a = m.take(1 << 20)!;
    expect(a).toBeInstanceOf(SharedArrayBuffer);
    expect(a.byteLength).toBe(1 << 20);
    expect(new Uint8Array(a).every((b) => b === 0)).toBe(true);
    const b = m.take(4096)!;
    const c = m.take(4096)!;
    expect(b).not.toBe(c);
    expect([b.byteLength, c.byteLength]).toEqual([4096, 4096]);
    // A size the last capture did not take is not held.
    expect(m.take(8192)).toBeNull();
    expect(m.heldBytes).toBe(0);
  });

  it('drops what a capture did not take, and holds no more than maxBytes', async () => {
    const m = memory(10_000);
    m.take(4000);
    await m.idle();
    for (const n of [4000, 4000, 4000]) m.take(n);
    await m.idle();
    expect(m.heldBytes).toBe(8000);
    expect(m.take(4000)).not.toBeNull();
    await m.idle();
    // The second capture took one 4,000-byte buffer: the other one it left is dropped, one is made again.
    expect(m.heldBytes).toBe(4000);
  });

  it('a closed one gives nothing and holds nothing', async () => {
    const m = memory();
    m.take(4096);
    await m.idle();
    m.take(4096);
    await m.idle();
    expect(m.heldBytes).toBe(4096);
    await m.close();
    expect(m.take(4096)).toBeNull();
    expect(m.heldBytes).toBe(0);
    await m.idle();
  });
});
