import { describe, expect, it } from 'vitest';
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
