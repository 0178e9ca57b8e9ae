/**
 * sha256 (hex) of byte parts, as traces record model and photo hashes. WebCrypto when the context has
 * it; otherwise (a phone opening the page over plain http from the LAN has no `crypto.subtle`) the
 * audited pure-JS @noble/hashes implementation, fed part by part.
 */
import { sha256 } from '@noble/hashes/sha2.js';

type Bytes = ArrayBuffer | Uint8Array;

function view(p: Bytes): Uint8Array {
  return p instanceof Uint8Array ? p : new Uint8Array(p);
}

function hex(digest: Uint8Array): string {
  let s = '';
  for (const b of digest) s += b.toString(16).padStart(2, '0');
  return s;
}

export async function sha256Hex(parts: Bytes | Bytes[]): Promise<string> {
  const list = Array.isArray(parts) ? parts : [parts];
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (subtle) {
    let data: Uint8Array;
    if (list.length === 1) data = view(list[0]!);
    else {
      data = new Uint8Array(list.reduce((a, p) => a + p.byteLength, 0));
      let o = 0;
      for (const p of list) {
        data.set(view(p), o);
        o += p.byteLength;
      }
    }
    return hex(new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)));
  }
  const h = sha256.create();
  for (const p of list) h.update(view(p));
  return hex(h.digest());
}
