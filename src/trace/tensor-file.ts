/**
 * Tensor files, pure: `.npy` (NumPy v1–3, C order) and `.json` ({shape, dtype, data}, a list or a map
 * of them) bytes → named tensors, and the check of one tensor against a model input. Every problem is
 * an ExrayInputError naming the file. Used by the CLI (src/reference/tensor-file.ts reads the files)
 * and by the page (picked / dropped tensor files).
 */
import { z } from 'zod';
import { ExrayInputError } from '../errors.ts';
import type { BlobData, DType, IOSpec } from './types.ts';
import { fromHalfBits } from './half.ts';

/** One model input as plain data: what a trace records and what is fed. */
export interface FeedTensor {
  name: string;
  shape: number[];
  dtype: DType;
  data: BlobData;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const NPY_DTYPES: Record<string, { dtype: DType; bytes: number; read: (v: DataView, o: number) => number }> = {
  '<f4': { dtype: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  '<f8': { dtype: 'float32', bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  '<f2': { dtype: 'float32', bytes: 2, read: (v, o) => fromHalfBits(v.getUint16(o, true)) },
  '<i4': { dtype: 'int32', bytes: 4, read: (v, o) => v.getInt32(o, true) },
  '<i8': { dtype: 'int64', bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  '|u1': { dtype: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o) },
  '|i1': { dtype: 'int8', bytes: 1, read: (v, o) => v.getInt8(o) },
  '|b1': { dtype: 'bool', bytes: 1, read: (v, o) => v.getUint8(o) },
};

/** Default cap on the elements of one tensor read from a file (docs/limits.md: EXRAY_MAX_TENSOR_ELEMENTS). */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 64 * 1024 ** 2;
function tooManyElements(n: number, max: number): string {
  return `the tensor has ${n.toLocaleString('en-US')} elements, over the limit of ${max.toLocaleString('en-US')} (EXRAY_MAX_TENSOR_ELEMENTS raises it)`;
}

/** A finite value too large for float32 would silently become ±Infinity. */
function float32Overflow(v: number, i: number): string {
  return `value ${v} at index ${i} is out of the float32 range (±3.4028235e38): it would become ${v > 0 ? '+' : '-'}Infinity`;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function outOfInt32(v: number, i: number, type: string): string {
  return `value ${v} at index ${i} (${type}) does not fit in int32: exray stores integer tensors as int32`;
}

export function parseNpy(bytes: Uint8Array, fileName: string, name: string, maxElements = DEFAULT_MAX_TENSOR_ELEMENTS): FeedTensor {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) throw new ExrayInputError(fileName, 'not a .npy file (bad magic)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.length) throw new ExrayInputError(fileName, '.npy header is truncated');
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new ExrayInputError(fileName, `unreadable .npy header: ${header.trim()}`);
  const kind = NPY_DTYPES[descr];
  if (!kind) throw new ExrayInputError(fileName, `unsupported .npy dtype '${descr}' (supported: ${Object.keys(NPY_DTYPES).join(', ')})`);
  if (fortran === 'True') throw new ExrayInputError(fileName, 'Fortran-order .npy arrays are not supported: save with np.ascontiguousarray');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ExrayInputError(fileName, `unreadable .npy shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > maxElements) throw new ExrayInputError(fileName, tooManyElements(n, maxElements));
  const dataStart = headerStart + headerLen;
  if (bytes.length - dataStart !== n * kind.bytes) {
    throw new ExrayInputError(fileName, `.npy data is ${bytes.length - dataStart} bytes, shape (${shape}) of ${descr} needs ${n * kind.bytes}`);
  }
  const integer = kind.dtype !== 'float32';
  const data = integer ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = kind.read(view, dataStart + i * kind.bytes);
    if (integer && (v < INT32_MIN || v > INT32_MAX)) throw new ExrayInputError(fileName, outOfInt32(v, i, descr));
    if (!integer && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw new ExrayInputError(fileName, float32Overflow(v, i));
    data[i] = v;
  }
  return { name, shape, dtype: kind.dtype, data };
}

const JsonTensor = z.object({
  name: z.string().optional(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'int64', 'uint8', 'int8', 'bool']).default('float32'),
  data: z.array(z.number()),
});
const JsonTensors = z.union([JsonTensor, z.array(JsonTensor), z.record(z.string(), JsonTensor)]);

export function parseJsonTensors(text: string, fileName: string, defaultName: string, maxElements = DEFAULT_MAX_TENSOR_ELEMENTS): FeedTensor[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ExrayInputError(fileName, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = JsonTensors.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExrayInputError(
      fileName,
      `expected {shape, dtype, data} (or a list / a map of them): ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const v = parsed.data;
  const list: [string, z.infer<typeof JsonTensor>][] = Array.isArray(v)
    ? v.map((t, i) => [t.name ?? (v.length === 1 ? defaultName : `input_${i}`), t])
    : 'shape' in v && Array.isArray((v as { shape: unknown }).shape)
      ? [[(v as z.infer<typeof JsonTensor>).name ?? defaultName, v as z.infer<typeof JsonTensor>]]
      : Object.entries(v as Record<string, z.infer<typeof JsonTensor>>);
  return list.map(([name, t]) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n > maxElements) throw new ExrayInputError(fileName, `tensor "${name}": ${tooManyElements(n, maxElements)}`);
    if (n !== t.data.length) throw new ExrayInputError(fileName, `tensor "${name}": shape [${t.shape}] needs ${n} values, got ${t.data.length}`);
    if (t.dtype !== 'float32') {
      t.data.forEach((v, i) => {
        if (!Number.isInteger(v)) throw new ExrayInputError(fileName, `tensor "${name}": value ${v} at index ${i} is not an integer (dtype ${t.dtype})`);
        if (v < INT32_MIN || v > INT32_MAX) throw new ExrayInputError(fileName, `tensor "${name}": ${outOfInt32(v, i, t.dtype)}`);
      });
    } else {
      t.data.forEach((v, i) => {
        if (!Number.isFinite(Math.fround(v))) throw new ExrayInputError(fileName, `tensor "${name}": ${float32Overflow(v, i)}`);
      });
    }
    const data = t.dtype === 'float32' ? Float32Array.from(t.data) : Int32Array.from(t.data);
    return { name, shape: t.shape, dtype: t.dtype, data };
  });
}

/** The file types `parseTensorFile` reads. */
export const TENSOR_FILE_TYPES = ['.npy', '.json'] as const;

/** A tensor file's bytes, by its extension. `name` names the tensor when the file does not (npy, one unnamed JSON tensor). */
export function parseTensorFile(bytes: Uint8Array, fileName: string, name: string, maxElements = DEFAULT_MAX_TENSOR_ELEMENTS): FeedTensor[] {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.npy')) return [parseNpy(bytes, fileName, name, maxElements)];
  if (lower.endsWith('.json')) return parseJsonTensors(new TextDecoder().decode(bytes), fileName, name, maxElements);
  throw new ExrayInputError(fileName, `unknown tensor file type: use ${TENSOR_FILE_TYPES.join(' or ')}`);
}

const INTEGER_DTYPES = new Set<DType>(['int32', 'int64', 'int8', 'uint8', 'bool']);

/** `[2,?,128]`: a model input's shape with symbolic dimensions as `?`. */
export function formatInputShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? '?').join(',')}]`;
}

/**
 * What is wrong with feeding `t` to the model input `spec`, or null: value count, rank (when the
 * model declares it: `rankKnown`), every fixed dimension, and the dtype family (float vs integer).
 */
export function tensorInputProblem(spec: IOSpec, t: FeedTensor, rankKnown = true): string | null {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) return `shape [${t.shape}] needs ${n} values, got ${t.data.length}`;
  if (rankKnown && spec.shape.length !== t.shape.length) {
    return `shape [${t.shape}] has rank ${t.shape.length}, model input "${spec.name}" is ${formatInputShape(spec.shape)} (rank ${spec.shape.length})`;
  }
  if (rankKnown && spec.shape.some((d, i) => d !== null && d !== t.shape[i])) {
    return `shape [${t.shape}] does not match model input "${spec.name}" ${formatInputShape(spec.shape)}`;
  }
  const wantInt = INTEGER_DTYPES.has(spec.dtype);
  const haveInt = INTEGER_DTYPES.has(t.dtype);
  if (wantInt !== haveInt) return `dtype ${t.dtype}, model input "${spec.name}" expects ${spec.dtype}`;
  return null;
}
