/**
 * A server killed between two chunks of one blob (SIGKILL while a phone streams MobileNetV2's 4.8 MB
 * activations): the journal ends in the middle of that blob. trailingPartialBlob gives back the
 * journaled chunks so the restarted hub's assembler takes the producer's next chunk (before, it refused
 * the resumed session: "first chunk at offset 1048576, expected 0"; e2e/phone-link-faults.spec.ts).
 */
import { describe, expect, it } from 'vitest';
import { encodeRecord, JOURNAL_EVENT, JOURNAL_FRAME, parseJournal, trailingPartialBlob } from '../src/server/journal.ts';
import { BlobAssembler, blobFrames, peekBinaryFrame } from '../src/transport/wire.ts';

function journal(frames: Uint8Array[], withEvent = true): Uint8Array[] {
  let seq = 0;
  const records = withEvent ? [encodeRecord(++seq, JOURNAL_EVENT, new TextEncoder().encode('{"type":"progress"}'))] : [];
  for (const f of frames) records.push(encodeRecord(++seq, JOURNAL_FRAME, f));
  return records;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

describe('the blob a journal ends in the middle of', () => {
  // 3.5 M values: 4 chunks of at most 2^20 values each.
  const big = new Float32Array(3_500_000).map((_, i) => Math.sin(i));
  const small = new Float32Array(1000).map((_, i) => i);
  let seq = 100;
  const next = (): number => ++seq;
  const bigFrames = blobFrames('000a-block_1_expand-0', big, next);
  const smallFrames = blobFrames('0009-conv-0', small, next);

  it('is empty when every blob is whole', () => {
    expect(bigFrames.length).toBeGreaterThan(3);
    expect(trailingPartialBlob(parseJournal(concat(journal([...smallFrames, ...bigFrames]))).records)).toEqual([]);
  });

  it('gives back its journaled chunks, in order, and an assembler primed with them takes the rest', () => {
    const cut = 2;
    const tail = trailingPartialBlob(parseJournal(concat(journal([...smallFrames, ...bigFrames.slice(0, cut)]))).records);
    expect(tail).toHaveLength(cut);
    tail.forEach((f, k) => expect(Buffer.from(f).equals(Buffer.from(bigFrames[k]!))).toBe(true));
    const asm = new BlobAssembler(2 ** 28);
    for (const f of tail) expect(asm.push(peekBinaryFrame(f))).toBeNull();
    let whole: { id: string; data: Float32Array | Int32Array } | null = null;
    for (const f of bigFrames.slice(cut)) whole = asm.push(peekBinaryFrame(f));
    expect(whole?.id).toBe('000a-block_1_expand-0');
    expect(Buffer.from(whole!.data.buffer, whole!.data.byteOffset, whole!.data.byteLength).equals(Buffer.from(big.buffer))).toBe(true);
    // Without them, the resumed chunk is refused, as the hub did.
    expect(() => new BlobAssembler(2 ** 28).push(peekBinaryFrame(bigFrames[cut]!))).toThrow(/first chunk at offset \d+, expected 0/);
  });
});
