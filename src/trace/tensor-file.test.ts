import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExrayInputError } from '../errors.ts';
import { formatInputShape, parseJsonTensors, parseNpy, parseTensorFile, tensorInputProblem } from './tensor-file.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'silero');
const fixture = (f: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, f)));

/** A v1 .npy written the way NumPy does (header padded to a multiple of 64 bytes, ending in \n). */
function npy(descr: string, shape: number[], payload: Uint8Array, opts: { fortran?: boolean } = {}): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(payload, 10 + header.length);
  return out;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function problemOf(f: () => unknown): { file: string; problem: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ExrayInputError);
    return { file: (e as ExrayInputError).file, problem: (e as ExrayInputError).problem };
  }
  throw new Error('expected an ExrayInputError');
}

describe('parseNpy', () => {
  it('reads the Silero fixtures as NumPy wrote them: float32 [1,576] speech, int64 scalar 16000', () => {
    const speech = parseNpy(fixture('speech_input.npy'), 'speech_input.npy', 'input');
    expect(speech.name).toBe('input');
    expect(speech.shape).toEqual([1, 576]);
    expect(speech.dtype).toBe('float32');
    expect(speech.data).toBeInstanceOf(Float32Array);
    expect(speech.data.length).toBe(576);
    // Real speech in [-1, 1], not silence.
    const peak = Math.max(...Array.from(speech.data, Math.abs));
    expect(peak).toBeGreaterThan(0.05);
    expect(peak).toBeLessThanOrEqual(1);

    const sr = parseNpy(fixture('sr.npy'), 'sr.npy', 'sr');
    expect(sr.shape).toEqual([]);
    expect(sr.dtype).toBe('int64');
    expect([...sr.data]).toEqual([16000]);
  });

  it('converts f8, f2, i4, u1 and b1 data', () => {
    expect([...parseNpy(npy('<f8', [2], bytesOf(Float64Array.of(0.5, -2))), 'a.npy', 'x').data]).toEqual([0.5, -2]);
    // 0x3c00 = 1.0, 0xc000 = -2.0, 0x3555 ≈ 0.333 in IEEE half.
    const half = parseNpy(npy('<f2', [3], bytesOf(Uint16Array.of(0x3c00, 0xc000, 0x3555))), 'h.npy', 'x');
    expect(half.dtype).toBe('float32');
    expect(half.data[0]).toBe(1);
    expect(half.data[1]).toBe(-2);
    expect(half.data[2]).toBeCloseTo(1 / 3, 3);
    const i4 = parseNpy(npy('<i4', [2, 2], bytesOf(Int32Array.of(1, -2, 3, -4))), 'i.npy', 'x');
    expect(i4).toMatchObject({ shape: [2, 2], dtype: 'int32' });
    expect([...i4.data]).toEqual([1, -2, 3, -4]);
    expect([...parseNpy(npy('|u1', [3], Uint8Array.of(0, 128, 255)), 'u.npy', 'x').data]).toEqual([0, 128, 255]);
    expect(parseNpy(npy('|b1', [2], Uint8Array.of(1, 0)), 'b.npy', 'x').dtype).toBe('bool');
  });

  it('names the file and the problem: bad magic, truncated header, dtype, Fortran order, data size, int64 overflow', () => {
    expect(problemOf(() => parseNpy(new TextEncoder().encode('{"shape": []}'), 'not.npy', 'x'))).toEqual({ file: 'not.npy', problem: 'not a .npy file (bad magic)' });
    const good = npy('<f4', [4], bytesOf(new Float32Array(4)));
    expect(problemOf(() => parseNpy(good.subarray(0, 30), 'cut.npy', 'x')).problem).toBe('.npy header is truncated');
    expect(problemOf(() => parseNpy(npy('>f4', [1], new Uint8Array(4)), 'be.npy', 'x')).problem).toMatch(/^unsupported \.npy dtype '>f4' \(supported: <f4, /);
    expect(problemOf(() => parseNpy(npy('<f4', [2, 2], new Uint8Array(16), { fortran: true }), 'f.npy', 'x')).problem).toMatch(/Fortran-order/);
    expect(problemOf(() => parseNpy(npy('<f4', [3], new Uint8Array(8)), 'short.npy', 'x')).problem).toBe('.npy data is 8 bytes, shape (3) of <f4 needs 12');
    const big = npy('<i8', [2], bytesOf(BigInt64Array.of(1n, 2n ** 40n)));
    expect(problemOf(() => parseNpy(big, 'big.npy', 'x')).problem).toMatch(/^value 1099511627776 at index 1 \(<i8\) does not fit in int32/);
    const header = "{'descr': '<f4', }\n";
    const broken = new Uint8Array(10 + header.length);
    broken.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(broken.buffer).setUint16(8, header.length, true);
    broken.set(new TextEncoder().encode(header), 10);
    expect(problemOf(() => parseNpy(broken, 'hdr.npy', 'x')).problem).toMatch(/^unreadable \.npy header: /);
  });
});

describe('parseJsonTensors', () => {
  it('reads one tensor (named by the caller), a list and a map of named tensors', () => {
    const sr = parseJsonTensors(new TextDecoder().decode(fixture('sr.json')), 'sr.json', 'ignored');
    expect(sr).toHaveLength(1);
    expect(sr[0]).toMatchObject({ name: 'sr', shape: [], dtype: 'int64' });
    expect(sr[0]!.data).toBeInstanceOf(Int32Array);
    expect([...sr[0]!.data]).toEqual([16000]);

    const one = parseJsonTensors('{"shape":[2],"data":[0.5,1]}', 'x.json', 'state');
    expect(one[0]).toMatchObject({ name: 'state', shape: [2], dtype: 'float32' });
    const map = parseJsonTensors('{"a":{"shape":[1],"data":[1]},"b":{"shape":[],"dtype":"int32","data":[7]}}', 'm.json', 'x');
    expect(map.map((t) => [t.name, t.dtype])).toEqual([
      ['a', 'float32'],
      ['b', 'int32'],
    ]);
    const list = parseJsonTensors('[{"shape":[1],"data":[1]},{"name":"k","shape":[1],"data":[2]}]', 'l.json', 'x');
    expect(list.map((t) => t.name)).toEqual(['input_0', 'k']);
  });

  it('names the file and the problem: bad JSON, wrong structure, value count, non-integer, int32 overflow', () => {
    expect(problemOf(() => parseJsonTensors('{"shape": [1], ', 'bad.json', 'x'))).toMatchObject({ file: 'bad.json', problem: expect.stringMatching(/^not valid JSON \(/) });
    expect(problemOf(() => parseJsonTensors('{"shape": "1", "data": []}', 's.json', 'x')).problem).toMatch(/^expected \{shape, dtype, data\}/);
    expect(problemOf(() => parseJsonTensors('{"shape": [2, 2], "data": [1, 2, 3]}', 'n.json', 'x')).problem).toBe('tensor "x": shape [2,2] needs 4 values, got 3');
    expect(problemOf(() => parseJsonTensors('{"shape": [1], "dtype": "int64", "data": [1.5]}', 'i.json', 'sr')).problem).toBe('tensor "sr": value 1.5 at index 0 is not an integer (dtype int64)');
    expect(problemOf(() => parseJsonTensors(`{"shape": [], "dtype": "int64", "data": [${2 ** 40}]}`, 'o.json', 'sr')).problem).toMatch(/does not fit in int32/);
  });
});

describe('parseTensorFile', () => {
  it('dispatches on the extension (case-insensitive) and refuses other types', () => {
    expect(parseTensorFile(fixture('speech_state.npy'), 'STATE.NPY', 'state')[0]).toMatchObject({ name: 'state', shape: [2, 1, 128] });
    expect(parseTensorFile(fixture('sr.json'), 'sr.json', 'sr')[0]!.shape).toEqual([]);
    expect(problemOf(() => parseTensorFile(new Uint8Array(4), 'frame.wav', 'input'))).toEqual({ file: 'frame.wav', problem: 'unknown tensor file type: use .npy or .json' });
  });
});

describe('tensorInputProblem', () => {
  const state = { name: 'state', shape: [2, null, 128], dtype: 'float32' as const };
  const t = (shape: number[], dtype: 'float32' | 'int64' = 'float32', n = shape.reduce((a, b) => a * b, 1)) => ({ name: 'x', shape, dtype, data: new Float32Array(n) });

  it('accepts any size on symbolic dimensions', () => {
    expect(tensorInputProblem(state, t([2, 1, 128]))).toBeNull();
    expect(tensorInputProblem(state, t([2, 3, 128]))).toBeNull();
    expect(formatInputShape(state.shape)).toBe('[2,?,128]');
  });

  it('says what is wrong: fixed dimension, rank, dtype family, value count', () => {
    expect(tensorInputProblem(state, t([1, 576]))).toBe('shape [1,576] has rank 2, model input "state" is [2,?,128] (rank 3)');
    expect(tensorInputProblem(state, t([2, 1, 64]))).toBe('shape [2,1,64] does not match model input "state" [2,?,128]');
    expect(tensorInputProblem({ name: 'sr', shape: [], dtype: 'int64' }, t([]))).toBe('dtype float32, model input "sr" expects int64');
    expect(tensorInputProblem({ name: 'sr', shape: [], dtype: 'int64' }, t([], 'int64'))).toBeNull();
    expect(tensorInputProblem(state, t([2, 1, 128], 'float32', 5))).toBe('shape [2,1,128] needs 256 values, got 5');
    // Unknown rank (the model declares no shape): only the dtype family is checked.
    expect(tensorInputProblem({ name: 'x', shape: [], dtype: 'float32' }, t([3, 4]), false)).toBeNull();
  });
});
