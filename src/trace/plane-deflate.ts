/**
 * A deflate (RFC 1951) encoder for byte planes of tensor values: standard zip method-8 data that any
 * inflater reads (fflate, zlib, unzip), written ~10× faster than a general deflate by doing less.
 *
 * Why not fflate's deflateSync: on byte planes almost all of deflate's gain is its Huffman coding
 * (the sign/exponent plane holds a few distinct bytes) and runs (zeros); the LZ77 string search that
 * costs most of its time finds little else, and on the near-random low mantissa planes it works
 * hardest for nothing. So each segment (a plane, or a mask) is cut into blocks of ≤ 65535 bytes and
 * each block becomes either
 *   - a stored block (BTYPE 00), when a histogram of a sample of it says Huffman coding would save
 *     under MIN_BLOCK_SAVING (the low mantissa planes), or
 *   - a dynamic Huffman block (BTYPE 10) of literals and runs: a run of ≥ 3 repeats of the previous
 *     byte is a match at distance 1 (zlib's Z_RLE strategy), so a block of zeros costs ~2 bits per 258.
 * The block's size is computed exactly before it is written, and a coded block is kept only when it
 * is smaller than stored, so the output is never larger than the input plus 5 bytes per block, plus
 * 10 bytes of tail that let a reader inflate many entries through one stream (JOINABLE_TAIL).
 * Measured against fflate level 1 on real activations: docs/trace-format.md "Blob encodings". Pure.
 */

/** Largest block: a stored block's LEN is 16 bits. */
const BLOCK = 65535;
/** A block is Huffman-coded only when that saves at least this fraction of it (else stored: reads as a copy). */
const MIN_BLOCK_SAVING = 0.03;
/** The histogram that decides a block samples every SAMPLE_STEP-th byte. */
const SAMPLE_STEP = 4;
const MAX_RUN = 258;

/**
 * The last bytes of every entry deflatePlanes writes: the end of an empty non-final stored block (a
 * sync flush), then an empty final stored block. Entries that end so can be inflated as one stream
 * (joinedDeflate): each without its last JOINABLE_FINAL bytes, one after another, then one final block.
 */
export const JOINABLE_TAIL = new Uint8Array([0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff]);
/** The empty final stored block that ends a joinable entry, and a joined stream. */
export const JOINABLE_FINAL = 5;

/** Whether raw deflate `data` ends as deflatePlanes writes every entry: a sync flush, then an empty final block. */
export function endsJoinable(data: Uint8Array): boolean {
  const n = data.length;
  if (n <= JOINABLE_TAIL.length) return false;
  for (let i = 0; i < JOINABLE_TAIL.length; i++) if (data[n - JOINABLE_TAIL.length + i] !== JOINABLE_TAIL[i]) return false;
  return true;
}

// Length codes 257..285 for match lengths 3..258 (RFC 1951 3.2.5).
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const LEN_SYM = new Uint16Array(MAX_RUN + 1);
const LEN_XBITS = new Uint8Array(MAX_RUN + 1);
const LEN_XVAL = new Uint8Array(MAX_RUN + 1);
for (let c = 0; c < 29; c++) {
  for (let len = LEN_BASE[c]!; len < LEN_BASE[c]! + (1 << LEN_EXTRA[c]!) && len <= MAX_RUN; len++) {
    if (len === MAX_RUN && c !== 28) continue; // 258 has its own code (285), not 284 + 31
    LEN_SYM[len] = 257 + c;
    LEN_XBITS[len] = LEN_EXTRA[c]!;
    LEN_XVAL[len] = len - LEN_BASE[c]!;
  }
}
/** Order in which code-length code lengths are sent. */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * Huffman code lengths (≤ limit) for `freq[0..n)`, into `lens`: Moffat–Katajainen minimum redundancy
 * on the sorted frequencies, then lengths over the limit folded back (miniz's method), the most
 * frequent symbols getting the shortest codes. Always a complete code when ≥ 2 symbols are used.
 */
function huffmanLengths(freq: Uint32Array, n: number, limit: number, lens: Uint8Array): void {
  lens.fill(0, 0, n);
  const syms: number[] = [];
  for (let s = 0; s < n; s++) if (freq[s]! > 0) syms.push(s);
  if (syms.length === 0) return;
  if (syms.length === 1) {
    lens[syms[0]!] = 1;
    return;
  }
  syms.sort((a, b) => freq[a]! - freq[b]! || a - b);
  const m = syms.length;
  const A = new Float64Array(m);
  for (let i = 0; i < m; i++) A[i] = freq[syms[i]!]!;
  let root = 0;
  let leaf = 0;
  for (let next = 0; next < m - 1; next++) {
    if (leaf >= m || (root < next && A[root]! < A[leaf]!)) {
      A[next] = A[root]!;
      A[root++] = next;
    } else A[next] = A[leaf++]!;
    if (leaf >= m || (root < next && A[root]! < A[leaf]!)) {
      A[next] = A[next]! + A[root]!;
      A[root++] = next;
    } else A[next] = A[next]! + A[leaf++]!;
  }
  A[m - 2] = 0;
  for (let next = m - 3; next >= 0; next--) A[next] = A[A[next]!]! + 1;
  let avbl = 1;
  let used = 0;
  let depth = 0;
  let r = m - 2;
  let next = m - 1;
  while (avbl > 0) {
    while (r >= 0 && A[r] === depth) {
      used++;
      r--;
    }
    while (avbl > used) {
      A[next--] = depth;
      avbl--;
    }
    avbl = 2 * used;
    depth++;
    used = 0;
  }
  // A[i] is now the length of syms[i] (ascending frequency, so descending length). Count per length, fold to limit.
  const count = new Int32Array(64);
  for (let i = 0; i < m; i++) count[Math.min(A[i]!, limit)]!++;
  let total = 0;
  for (let l = limit; l > 0; l--) total += count[l]! << (limit - l);
  while (total !== 1 << limit) {
    count[limit]!--;
    for (let l = limit - 1; l > 0; l--) {
      if (count[l]! > 0) {
        count[l]!--;
        count[l + 1]! += 2;
        break;
      }
    }
    total--;
  }
  let j = m;
  for (let l = 1; l <= limit; l++) for (let k = count[l]!; k > 0; k--) lens[syms[--j]!] = l;
}

/** Canonical codes for `lens`, bit-reversed (deflate sends Huffman codes most significant bit first into an LSB-first stream). */
function canonicalCodes(lens: Uint8Array, n: number, codes: Uint16Array): void {
  const count = new Uint16Array(16);
  for (let s = 0; s < n; s++) count[lens[s]!]!++;
  count[0] = 0;
  const nextCode = new Uint16Array(16);
  let code = 0;
  for (let l = 1; l < 16; l++) {
    code = (code + count[l - 1]!) << 1;
    nextCode[l] = code;
  }
  for (let s = 0; s < n; s++) {
    const l = lens[s]!;
    if (l === 0) continue;
    let c = nextCode[l]!++;
    let rev = 0;
    for (let k = 0; k < l; k++) {
      rev = (rev << 1) | (c & 1);
      c >>>= 1;
    }
    codes[s] = rev;
  }
}

/** Bits out, least significant first, into a buffer sized by the caller. */
class BitWriter {
  pos = 0;
  bits = 0;
  count = 0;
  constructor(readonly out: Uint8Array) {}
  put(value: number, n: number): void {
    this.bits |= value << this.count;
    this.count += n;
    while (this.count >= 8) {
      this.out[this.pos++] = this.bits & 0xff;
      this.bits >>>= 8;
      this.count -= 8;
    }
  }
  align(): void {
    if (this.count > 0) this.put(0, 8 - this.count);
  }
}

/** Scratch reused across blocks (one encoder call at a time: JavaScript is single-threaded per realm). */
const litFreq = new Uint32Array(286);
const litLens = new Uint8Array(286);
const litCodes = new Uint16Array(286);
const clFreq = new Uint32Array(19);
const clLens = new Uint8Array(19);
const clCodes = new Uint16Array(19);
const sample = new Uint32Array(256);
let tokens = new Uint32Array(BLOCK);

/** Whether Huffman coding the block could save MIN_BLOCK_SAVING, from the order-0 entropy of a sample of its bytes. */
function worthCoding(src: Uint8Array, s: number, e: number): boolean {
  sample.fill(0);
  let n = 0;
  for (let i = s; i < e; i += SAMPLE_STEP, n++) sample[src[i]!]!++;
  let bits = 0;
  for (let b = 0; b < 256; b++) {
    const c = sample[b]!;
    if (c > 0) bits += c * Math.log2(n / c);
  }
  return bits < n * 8 * (1 - MIN_BLOCK_SAVING);
}

/** Code-length ops of the run-length coded lengths: symbol | extra << 5. */
function codeLengthOps(lens: Uint8Array, total: number): number[] {
  const ops: number[] = [];
  let i = 0;
  while (i < total) {
    const l = lens[i]!;
    let r = 1;
    while (i + r < total && lens[i + r] === l) r++;
    i += r;
    if (l === 0) {
      while (r >= 11) {
        const t = Math.min(r, 138);
        ops.push(18 | ((t - 11) << 5));
        r -= t;
      }
      if (r >= 3) {
        ops.push(17 | ((r - 3) << 5));
        r = 0;
      }
      for (; r > 0; r--) ops.push(0);
    } else {
      ops.push(l);
      r--;
      while (r >= 3) {
        const t = Math.min(r, 6);
        ops.push(16 | ((t - 3) << 5));
        r -= t;
      }
      for (; r > 0; r--) ops.push(l);
    }
  }
  return ops;
}

const CL_EXTRA = [2, 3, 7];

function writeStored(w: BitWriter, src: Uint8Array, s: number, e: number, final: boolean): void {
  w.put(final ? 1 : 0, 3);
  w.align();
  const len = e - s;
  w.put(len & 0xffff, 16);
  w.put(~len & 0xffff, 16);
  w.out.set(src.subarray(s, e), w.pos);
  w.pos += len;
}

/** One block: Huffman-coded when that is smaller than stored by MIN_BLOCK_SAVING, else stored. */
function writeBlock(w: BitWriter, src: Uint8Array, s: number, e: number, final: boolean): void {
  if (!worthCoding(src, s, e)) {
    writeStored(w, src, s, e, final);
    return;
  }
  // Tokens: a literal byte (< 256), or 256 + a run length (a match at distance 1).
  litFreq.fill(0);
  let t = 0;
  let runs = 0;
  let i = s;
  while (i < e) {
    const b = src[i++]!;
    litFreq[b]!++;
    tokens[t++] = b;
    let j = i;
    while (j < e && src[j] === b) j++;
    let run = j - i;
    while (run >= 3) {
      const len = run < MAX_RUN ? run : MAX_RUN;
      tokens[t++] = 256 + len;
      litFreq[LEN_SYM[len]!]!++;
      runs++;
      run -= len;
      i += len;
    }
  }
  litFreq[256] = 1;
  huffmanLengths(litFreq, 286, 15, litLens);
  let hlit = 286;
  while (hlit > 257 && litLens[hlit - 1] === 0) hlit--;
  // One distance code (distance 1) of length 1, declared even when unused: zlib accepts a single code of length 1.
  const all = new Uint8Array(hlit + 1);
  all.set(litLens.subarray(0, hlit));
  all[hlit] = 1;
  const ops = codeLengthOps(all, hlit + 1);
  clFreq.fill(0);
  for (const op of ops) clFreq[op & 31]!++;
  let used = 0;
  for (let k = 0; k < 19; k++) if (clFreq[k]! > 0) used++;
  if (used < 2) clFreq[clFreq[0]! > 0 ? 1 : 0] = 1; // an inflater rejects an incomplete code-length code
  huffmanLengths(clFreq, 19, 7, clLens);
  let hclen = 19;
  while (hclen > 4 && clLens[CL_ORDER[hclen - 1]!] === 0) hclen--;
  // Exact size in bits: header, code lengths, data (codes + length extra bits + 1-bit distances), end of block.
  let bits = 3 + 5 + 5 + 4 + 3 * hclen;
  for (const op of ops) bits += clLens[op & 31]! + ((op & 31) >= 16 ? CL_EXTRA[(op & 31) - 16]! : 0);
  for (let k = 0; k < 286; k++) bits += litFreq[k]! * litLens[k]!;
  for (let c = 0; c < 29; c++) bits += litFreq[257 + c]! * LEN_EXTRA[c]!;
  bits += runs; // the distance code
  if (bits >= 8 * (e - s) * (1 - MIN_BLOCK_SAVING)) {
    writeStored(w, src, s, e, final);
    return;
  }
  canonicalCodes(litLens, 286, litCodes);
  canonicalCodes(clLens, 19, clCodes);
  w.put(final ? 1 : 0, 1);
  w.put(2, 2);
  w.put(hlit - 257, 5);
  w.put(0, 5);
  w.put(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) w.put(clLens[CL_ORDER[k]!]!, 3);
  for (const op of ops) {
    const sym = op & 31;
    w.put(clCodes[sym]!, clLens[sym]!);
    if (sym >= 16) w.put(op >>> 5, CL_EXTRA[sym - 16]!);
  }
  // The hot loop, with the bit buffer in locals: ≤ 15 + 15 bits pending never overflow 32.
  const out = w.out;
  let pos = w.pos;
  let bb = w.bits;
  let bc = w.count;
  for (let k = 0; k < t; k++) {
    const tok = tokens[k]!;
    if (tok < 256) {
      bb |= litCodes[tok]! << bc;
      bc += litLens[tok]!;
    } else {
      const len = tok - 256;
      const sym = LEN_SYM[len]!;
      bb |= litCodes[sym]! << bc;
      bc += litLens[sym]!;
      if (bc >= 16) {
        out[pos++] = bb & 0xff;
        out[pos++] = (bb >>> 8) & 0xff;
        bb >>>= 16;
        bc -= 16;
      }
      // Length extra bits (≤ 5), then distance code 0 (one bit, 0).
      bb |= LEN_XVAL[len]! << bc;
      bc += LEN_XBITS[len]! + 1;
    }
    if (bc >= 16) {
      out[pos++] = bb & 0xff;
      out[pos++] = (bb >>> 8) & 0xff;
      bb >>>= 16;
      bc -= 16;
    }
  }
  w.pos = pos;
  w.bits = bb;
  w.count = bc;
  w.put(litCodes[256]!, litLens[256]!);
}

/**
 * Raw deflate data of `src`, whose byte ranges [0, cuts[0]), [cuts[0], cuts[1]), … are coded apart
 * (a block never spans two planes, whose statistics differ), ending joinable (JOINABLE_TAIL). At most
 * src.length + 5 bytes per block + 10.
 */
export function deflatePlanes(src: Uint8Array, cuts: readonly number[] = []): Uint8Array {
  const bounds = [...cuts.filter((c) => c > 0 && c < src.length), src.length];
  let blocks = 0;
  let s = 0;
  for (const c of bounds) {
    blocks += Math.max(1, Math.ceil((c - s) / BLOCK));
    s = c;
  }
  const w = new BitWriter(new Uint8Array(src.length + 5 * blocks + JOINABLE_TAIL.length + 8));
  if (tokens.length < BLOCK) tokens = new Uint32Array(BLOCK);
  s = 0;
  for (const c of bounds) {
    for (let p = s; p < c; p += BLOCK) writeBlock(w, src, p, Math.min(c, p + BLOCK), false);
    s = c;
  }
  // The joinable tail: an empty stored block (a sync flush: aligns the end to a byte), then an empty
  // final stored block. Without its last 5 bytes the data is a run of whole, non-final blocks.
  writeStored(w, src, 0, 0, false);
  writeStored(w, src, 0, 0, true);
  return w.out.subarray(0, w.pos);
}
