/**
 * Model inputs → onnxruntime tensors, and onnxruntime tensors → trace blobs. Pure.
 *
 * The trace stores every value as float32 or int32 (BlobRef). ONNX int64 values are stored as int32
 * when every value fits, else as float32 (approximate; the caller warns); the record keeps dtype
 * `int64` either way. An int64 *input* must fit in int32 (the trace must replay it exactly).
 */
import type { BlobData, DType } from '../../trace/types.ts';
import { dtypeOfOrt } from '../../onnx/dtypes.ts';
import { fromHalfBits, toHalfBits } from '../../trace/half.ts';
import type { OrtModule, OrtTensor } from './ort-api.ts';

/** One model input: what a trace records and what is fed (same shape as reference/feed.ts FeedTensor). */
export interface OrtInput {
  name: string;
  shape: number[];
  dtype: DType;
  data: BlobData;
}

type OrtData = Float32Array | Float64Array | Int32Array | BigInt64Array | BigUint64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;


const INT_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  bool: [0, 1],
};

/**
 * The typed array onnxruntime wants for `type` (ORT's tensor type string: `float32`, `int64`, …), from
 * recorded values. Throws a RangeError naming the input when a value does not fit.
 */
export function ortInputData(input: OrtInput, type: string): OrtData {
  const src = input.data;
  const n = src.length;
  const integral = (what: string): void => {
    for (let i = 0; i < n; i++) {
      if (!Number.isInteger(src[i])) throw new RangeError(`input "${input.name}": value ${src[i]} at index ${i} is not an integer, the model takes ${what}`);
    }
  };
  const inRange = (lo: number, hi: number): void => {
    integral(type);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v < lo || v > hi) throw new RangeError(`input "${input.name}": value ${v} at index ${i} does not fit ${type}`);
    }
  };
  switch (type) {
    case 'float32':
      return src instanceof Float32Array ? src : Float32Array.from(src);
    case 'float64':
      return Float64Array.from(src);
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = toHalfBits(src[i]!);
      return out;
    }
    case 'int32':
      integral('int32');
      return src instanceof Int32Array ? src : Int32Array.from(src);
    case 'int64': {
      integral('int64');
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(src[i]!);
      return out;
    }
    case 'uint64': {
      inRange(0, Number.MAX_SAFE_INTEGER);
      const out = new BigUint64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(src[i]!);
      return out;
    }
    case 'int8':
      inRange(...INT_RANGES['int8']!);
      return Int8Array.from(src);
    case 'uint8':
      inRange(...INT_RANGES['uint8']!);
      return Uint8Array.from(src);
    case 'bool':
      inRange(...INT_RANGES['bool']!);
      return Uint8Array.from(src);
    case 'int16':
      inRange(...INT_RANGES['int16']!);
      return Int16Array.from(src);
    case 'uint16':
      inRange(...INT_RANGES['uint16']!);
      return Uint16Array.from(src);
    case 'uint32':
      inRange(...INT_RANGES['uint32']!);
      return Uint32Array.from(src);
    default:
      throw new RangeError(`input "${input.name}": the model takes ${type}, which exray cannot feed`);
  }
}

/** ONNX element type number → ORT tensor type string. */
export function ortTypeOfOnnx(elemType: number): string | undefined {
  const map: Record<number, string> = {
    1: 'float32',
    2: 'uint8',
    3: 'int8',
    4: 'uint16',
    5: 'int16',
    6: 'int32',
    7: 'int64',
    8: 'string',
    9: 'bool',
    10: 'float16',
    11: 'float64',
    12: 'uint32',
    13: 'uint64',
  };
  return map[elemType];
}

/** A fresh onnxruntime tensor for an input (ORT's proxy mode detaches buffers: make one per run). */
export function toOrtTensor(ort: OrtModule, input: OrtInput, type: string): OrtTensor {
  const data = ortInputData(input, type);
  // Each run gets its own copy of the buffer when the source array is reused as is.
  const own = data === input.data ? data.slice() : data;
  return new ort.Tensor(type as 'float32', own as Float32Array, input.shape);
}

export interface TensorValues {
  shape: number[];
  dtype: DType;
  /** null: values that are not numbers (strings) or not on the CPU. */
  data: BlobData | null;
  /** int64 values outside the int32 range, stored as float32. */
  approximate: boolean;
}

/**
 * Read an output tensor's values as trace blob data (a fresh array, never a view of runtime memory:
 * blobs may be transferred to another thread later).
 *
 * `take`: the caller drops the tensor right after and the runtime handed its values over in an array
 * of their own (onnxruntime-node and onnxruntime-web's wasm EP copy every CPU output into a fresh
 * ArrayBuffer before `run()` resolves): a float32 / int32 array that spans its whole, unshared buffer
 * is then used as is instead of being copied a second time. Anything else (a view into a larger
 * buffer, e.g. a wasm heap; a SharedArrayBuffer; a pre-allocated output the caller reuses) is copied.
 */
export function tensorValues(t: OrtTensor, take = false): TensorValues {
  const shape = [...t.dims].map(Number);
  const dtype = dtypeOfOrt(t.type);
  if (t.location !== undefined && t.location !== 'cpu' && t.location !== 'cpu-pinned') return { shape, dtype, data: null, approximate: false };
  const d = t.data as unknown;
  if (d instanceof Float32Array) return { shape, dtype, data: take && ownsBuffer(d) ? d : d.slice(), approximate: false };
  if (d instanceof Int32Array) return { shape, dtype, data: take && ownsBuffer(d) ? d : d.slice(), approximate: false };
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const n = d.length;
    let fits = true;
    for (let i = 0; i < n && fits; i++) fits = d[i]! >= -2147483648n && d[i]! <= 2147483647n;
    if (fits) {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(d[i]!);
      return { shape, dtype, data: out, approximate: false };
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(d[i]!);
    return { shape, dtype, data: out, approximate: true };
  }
  if (t.type === 'float16' && d instanceof Uint16Array) {
    const out = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = fromHalfBits(d[i]!);
    return { shape, dtype, data: out, approximate: false };
  }
  if (d instanceof Float64Array) return { shape, dtype, data: Float32Array.from(d), approximate: false };
  if (d instanceof Uint32Array) {
    const fits = d.every((v) => v <= 2147483647);
    return fits ? { shape, dtype, data: Int32Array.from(d), approximate: false } : { shape, dtype, data: Float32Array.from(d), approximate: true };
  }
  if (d instanceof Uint8Array || d instanceof Int8Array || d instanceof Uint16Array || d instanceof Int16Array) {
    return { shape, dtype, data: Int32Array.from(d), approximate: false };
  }
  // A Float16Array (where the platform has one) or anything array-like of numbers.
  if (ArrayBuffer.isView(d) && typeof (d as unknown as ArrayLike<unknown>)[0] !== 'bigint') {
    return { shape, dtype, data: Float32Array.from(d as unknown as ArrayLike<number>), approximate: false };
  }
  return { shape, dtype, data: null, approximate: false };
}

/** Whether `d` is the whole of an ordinary (transferable, not shared) ArrayBuffer. */
function ownsBuffer(d: Float32Array | Int32Array): boolean {
  return d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
}

/**
 * Largest |a − b| over two value arrays of equal length; NaN where one side is NaN and the other is
 * not. Equal values (infinities included) count as 0.
 */
export function maxAbsDiff(a: BlobData, b: BlobData): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) !== Number.isNaN(y)) return NaN;
    if (!Number.isNaN(x) && x !== y) m = Math.max(m, Math.abs(x - y));
  }
  return m;
}

/** ONNX element type of an ORT tensor type string (for sizes measured from a tensor). */
export function elementTypeOf(type: string): number {
  const map: Record<string, number> = { float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13 };
  return map[type] ?? 1;
}

/** FNV-1a over the 32-bit words of a blob: equal values give equal sums (passes are compared by it). */
export function checksum(data: Float32Array | Int32Array): number {
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return h >>> 0;
}
