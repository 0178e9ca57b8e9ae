import { afterEach, describe, expect, it, vi } from 'vitest';
import { BLOB_ID_PATTERN, blobIdFor, createBlobIdAllocator, newTraceId } from './ids.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newTraceId', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('returns distinct v4 UUIDs', () => {
    const ids = Array.from({ length: 1000 }, () => newTraceId());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(1000);
  });

  it('falls back to getRandomValues where randomUUID is missing (insecure http context)', () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: <T extends ArrayBufferView>(a: T): T => real.getRandomValues(a) });
    expect(globalThis.crypto.randomUUID).toBeUndefined();
    const ids = Array.from({ length: 200 }, () => newTraceId());
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(200);
  });
});

describe('blobIdFor', () => {
  const nasty = [
    'StatefulPartitionedCall/model/conv1/Conv2D',
    'model/block 1/dw:conv/Relu6',
    'a/b',
    'a:b',
    'a b',
    '..',
    '../../etc/passwd',
    '.hidden',
    '',
    'Ωmega·层/卷积',
    'x'.repeat(500),
    'C:\\Windows\\system32',
    'input:image:0',
  ];

  it('produces path-safe ids that are unique even when sanitized names collide', () => {
    const ids = nasty.flatMap((n) => [blobIdFor(n, 0), blobIdFor(n, 1), blobIdFor(n, 0)]);
    for (const id of ids) {
      expect(id).toMatch(BLOB_ID_PATTERN);
      expect(id).not.toContain('/');
      expect(id).not.toContain('..');
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps the name readable: counter, sanitized name, output index', () => {
    const next = createBlobIdAllocator();
    expect(next('StatefulPartitionedCall/model/conv1/Conv2D', 0)).toBe('0000-StatefulPartitionedCall_model_conv1_Conv2D-0');
    expect(next('model/block 1/dw:conv/Relu6', 2)).toBe('0001-model_block_1_dw_conv_Relu6-2');
    expect(next('', 0)).toBe('0002-_-0');
  });

  it('rejects a bad output index', () => {
    expect(() => blobIdFor('x', -1)).toThrow(RangeError);
    expect(() => blobIdFor('x', 0.5)).toThrow(RangeError);
  });
});
