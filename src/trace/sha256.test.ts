import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from './sha256.ts';

const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(100_000).fill(7).buffer, new TextEncoder().encode('exray')];
const expected = createHash('sha256').update(Buffer.from([1, 2, 3])).update(Buffer.alloc(100_000, 7)).update('exray').digest('hex');

describe('sha256Hex', () => {
  afterEach(() => vi.unstubAllGlobals());
  it('matches node:crypto with WebCrypto', async () => {
    expect(await sha256Hex(parts)).toBe(expected);
  });
  it('matches node:crypto without crypto.subtle (plain-http pages)', async () => {
    vi.stubGlobal('crypto', {});
    expect(await sha256Hex(parts)).toBe(expected);
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
