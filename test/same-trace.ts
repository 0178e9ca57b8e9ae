/**
 * Two traces of the same run are the same trace: node names, every record and statistic to the bit
 * (toStrictEqual tells NaN, -0 and every count; mean/std by Object.is), every blob the same bytes, the
 * model's outputs too (blob ids are per process, values are not). For captures done two ways (statistics
 * on this thread or on a pool, in Node and in the page).
 */
import { expect } from 'vitest';
import type { BlobData, Trace } from '../src/trace/types.ts';

export function sameBits(a: BlobData, b: BlobData): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Asserts `there` equals `here`; returns how many node blobs were compared. */
export function expectSameTrace(there: Trace, here: Trace): number {
  expect(there.header.nodes.map((n) => n.name)).toEqual(here.header.nodes.map((n) => n.name));
  let blobs = 0;
  for (const [i, n] of there.header.nodes.entries()) {
    const m = here.header.nodes[i]!;
    expect(n.outputs.length, n.name).toBe(m.outputs.length);
    n.outputs.forEach((o, k) => {
      const { blob: ob, ...orec } = o;
      const { blob: mb, ...mrec } = m.outputs[k]!;
      expect(orec, `${n.name}:${k}`).toStrictEqual(mrec);
      expect(Object.is(o.stats?.mean, m.outputs[k]!.stats?.mean) && Object.is(o.stats?.std, m.outputs[k]!.stats?.std), `${n.name}:${k} mean/std bits`).toBe(true);
      expect(ob === undefined, `${n.name}:${k} blob`).toBe(mb === undefined);
      if (ob && mb) {
        expect(sameBits(there.blobs.get(ob.id)!, here.blobs.get(mb.id)!), `${n.name}:${k} values`).toBe(true);
        blobs++;
      }
    });
  }
  expect(there.header.outputs.map(({ blob, ...o }) => ({ ...o, length: blob?.length }))).toStrictEqual(here.header.outputs.map(({ blob, ...o }) => ({ ...o, length: blob?.length })));
  there.header.outputs.forEach((o, k) => expect(sameBits(there.blobs.get(o.blob!.id)!, here.blobs.get(here.header.outputs[k]!.blob!.id)!), o.name).toBe(true));
  return blobs;
}
