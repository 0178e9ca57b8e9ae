import { describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../trace/half.ts';
import { AttachmentAssembler, attachmentFrames, BlobAssembler, blobFrames, CHUNK_BYTES, decodeBinaryFrame, encodeBinaryFrame, parseClientText, peekBinaryFrame, WireError } from './wire.ts';

describe('binary frames', () => {
  it('round-trip blobs and attachments with their seq and meta, payload 4-aligned and not base64', () => {
    const f32 = new Float32Array([1.5, -2, Number.NaN, 3e38]);
    const frame = encodeBinaryFrame('blob-f32', 7, { id: 'conv1:0', session: 's-0123456789abcdef', stream: 'edge' }, f32);
    expect(frame.byteLength).toBeLessThanOrEqual(16 + 80 + f32.byteLength);
    const back = decodeBinaryFrame(frame);
    expect(back.kind).toBe('blob-f32');
    expect(back.seq).toBe(7);
    expect(back.meta).toEqual({ id: 'conv1:0', session: 's-0123456789abcdef', stream: 'edge' });
    expect(Array.from(back.payload as Float32Array)).toEqual(Array.from(f32));
    expect(back.payload.byteOffset % 4).toBe(0);
    const i32 = decodeBinaryFrame(encodeBinaryFrame('blob-i32', 1, { id: 'in' }, new Int32Array([-1, 2 ** 31 - 1])));
    expect(Array.from(i32.payload as Int32Array)).toEqual([-1, 2 ** 31 - 1]);
    const photo = decodeBinaryFrame(encodeBinaryFrame('attachment', 2, { id: 'photo' }, new Uint8Array([1, 2, 3])));
    expect(Array.from(photo.payload)).toEqual([1, 2, 3]);
  });

  it('names what is wrong with a bad frame', () => {
    expect(() => decodeBinaryFrame(new Uint8Array(4))).toThrow(WireError);
    const good = encodeBinaryFrame('blob-f32', 1, { id: 'x' }, new Float32Array(2));
    const badMagic = good.slice();
    badMagic[0] = 0;
    expect(() => decodeBinaryFrame(badMagic)).toThrow(/magic/);
    const badKind = good.slice();
    badKind[5] = 9;
    expect(() => decodeBinaryFrame(badKind)).toThrow(/kind 9/);
    expect(() => decodeBinaryFrame(good.subarray(0, good.byteLength - 1))).toThrow(/whole number/);
    const badMeta = encodeBinaryFrame('blob-f32', 1, { id: 'x', session: 's-0123456789abcdef' }, new Float32Array(1));
    badMeta.set(new TextEncoder().encode('{"id":"x","session":"../../etc/x"}').subarray(0, 30), 16);
    expect(() => decodeBinaryFrame(badMeta)).toThrow(WireError);
  });

  it('chunks a large blob and assembles it in order, refusing gaps and over-limit sizes', () => {
    const n = CHUNK_BYTES / 4 + 1000;
    const data = new Float32Array(n).map((_, i) => i);
    let seq = 0;
    const frames = blobFrames('big', data, () => ++seq);
    expect(frames).toHaveLength(2);
    const asm = new BlobAssembler(n);
    expect(asm.push(peekBinaryFrame(frames[0]!))).toBeNull();
    const whole = asm.push(peekBinaryFrame(frames[1]!));
    expect(whole?.data.length).toBe(n);
    expect((whole!.data as Float32Array)[n - 1]).toBe(n - 1);
    expect(() => new BlobAssembler(n).push(peekBinaryFrame(frames[1]!))).toThrow(/first chunk/);
    // Checking only: the same verdicts, nothing allocated.
    const check = new BlobAssembler(n);
    expect(check.push(peekBinaryFrame(frames[0]!), false)).toBeNull();
    expect(check.push(peekBinaryFrame(frames[1]!), false)).toEqual({ id: 'big', data: null });
    expect(() => new BlobAssembler(10).push(peekBinaryFrame(frames[0]!))).toThrow(/over the limit/);
  });
});

describe('narrowed blobs (a producer\'s link precision)', () => {
  const values = (n: number): Float32Array => new Float32Array(n).map((_, i) => Math.sin(i * 0.37) * 10 ** ((i % 9) - 4) * (i % 2 ? -1 : 1));
  const f16 = (x: number): number => fromHalfBits(toHalfBits(x));
  const bf16 = (x: number): number => {
    const u = new Uint32Array(new Float32Array([x]).buffer);
    const r = ((u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16) << 16;
    return new Float32Array(new Uint32Array([r >>> 0]).buffer)[0]!;
  };

  it('float16 halves the bytes, chunks at CHUNK_BYTES, and widens to the float16 rounding of every value, raw or decoded', () => {
    const n = CHUNK_BYTES / 2 + 777;
    const data = values(n);
    let seq = 0;
    const frames = blobFrames('conv:0', data, () => ++seq, {}, 'float16');
    expect(frames).toHaveLength(2);
    expect(frames.reduce((s, f) => s + f.byteLength, 0)).toBeLessThan(n * 2 + 200);
    expect(peekBinaryFrame(frames[0]!).kind).toBe('blob-f16');
    for (const read of [peekBinaryFrame, decodeBinaryFrame]) {
      const asm = new BlobAssembler(n);
      expect(asm.push(read(frames[0]!))).toBeNull();
      const whole = asm.push(read(frames[1]!))!.data as Float32Array;
      expect(whole).toBeInstanceOf(Float32Array);
      for (const i of [0, 1, 5, 1000, n >> 1, n - 1]) expect(whole[i]).toBe(f16(data[i]!));
      expect(whole.every((v, i) => v === f16(data[i]!))).toBe(true);
    }
  });

  it('bfloat16 likewise; int32 blobs and float32 blobs that would overflow float16 travel exact', () => {
    const data = values(3000);
    const back = decodeBinaryFrame(blobFrames('x', data, () => 1, {}, 'bfloat16')[0]!);
    expect(back.kind).toBe('blob-bf16');
    expect((back.payload as Float32Array).every((v, i) => v === bf16(data[i]!))).toBe(true);
    const ints = decodeBinaryFrame(blobFrames('i', new Int32Array([70000, -3]), () => 1, {}, 'float16')[0]!);
    expect([ints.kind, Array.from(ints.payload as Int32Array)]).toEqual(['blob-i32', [70000, -3]]);
    const big = new Float32Array([1, 70000]);
    const exact = decodeBinaryFrame(blobFrames('b', big, () => 1, {}, 'float16')[0]!);
    expect([exact.kind, Array.from(exact.payload as Float32Array)]).toEqual(['blob-f32', [1, 70000]]);
    const odd = blobFrames('o', new Float32Array(3), () => 1, {}, 'float16')[0]!;
    expect(() => peekBinaryFrame(odd.subarray(0, odd.byteLength - 1))).toThrow(/whole number of 2-byte values/);
  });
});

describe('attachments', () => {
  it('a photo over one chunk travels in order and comes back whole; a gap or an over-limit size is refused', () => {
    const photo = new Uint8Array(CHUNK_BYTES * 2 + 123).map((_, i) => i % 251);
    let seq = 0;
    const frames = attachmentFrames('photo', photo, () => ++seq);
    expect(frames).toHaveLength(3);
    const asm = new AttachmentAssembler(photo.byteLength);
    expect(asm.push(peekBinaryFrame(frames[0]!))).toBeNull();
    expect(asm.push(peekBinaryFrame(frames[1]!))).toBeNull();
    expect(Buffer.compare(Buffer.from(asm.push(peekBinaryFrame(frames[2]!))!.data), Buffer.from(photo))).toBe(0);
    expect(() => new AttachmentAssembler(photo.byteLength).push(peekBinaryFrame(frames[1]!))).toThrow(/first chunk/);
    expect(() => new AttachmentAssembler(10).push(peekBinaryFrame(frames[0]!))).toThrow(/over the limit/);
    const small = attachmentFrames('photo', new Uint8Array([1, 2, 3]), () => 1);
    expect(Array.from(new AttachmentAssembler(10).push(peekBinaryFrame(small[0]!))!.data)).toEqual([1, 2, 3]);
  });
});

describe('client messages', () => {
  it('accept the union and reject anything else with the path', () => {
    expect(parseClientText('{"t":"ping","n":1}')).toEqual({ t: 'ping', n: 1 });
    expect(() => parseClientText('nope')).toThrow(/not JSON/);
    expect(() => parseClientText('{"t":"resume","session":"../x","lastAck":0}')).toThrow(/session/);
    expect(() => parseClientText('{"t":"ev","seq":0,"event":{"type":"node"}}')).toThrow(/seq/);
    expect(() => parseClientText('{"t":"open","run":{}}')).toThrow(/run\.model/);
    expect(() => parseClientText('{"t":"boom"}')).toThrow(WireError);
  });
});
