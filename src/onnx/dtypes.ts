/**
 * ONNX element types (TensorProto.DataType numbers) and how exray records them. Pure.
 *
 * The trace's DType has fewer members than ONNX: types it lacks are recorded as the nearest one
 * (`uint16`/`int16`/`uint32` as `int32`, `double`/`bfloat16` as `float32`, …); `onnxTypeName` keeps
 * the exact ONNX name for messages.
 */
import type { DType } from '../trace/types.ts';

const NAMES: Record<number, string> = {
  0: 'undefined',
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

/** `float`, `int64`, … (ONNX's own spelling), or `type <n>` for a number this table does not know. */
export function onnxTypeName(elemType: number): string {
  return NAMES[elemType] ?? `type ${elemType}`;
}

/** The trace dtype that records an ONNX element type. */
export function dtypeOfOnnx(elemType: number): DType {
  switch (elemType) {
    case 1:
    case 11:
    case 16:
    case 17:
    case 18:
    case 19:
    case 20:
    case 23:
      return 'float32';
    case 10:
      return 'float16';
    case 2:
    case 21:
      return 'uint8';
    case 3:
    case 22:
      return 'int8';
    case 7:
    case 13:
      return 'int64';
    case 8:
      return 'string';
    case 9:
      return 'bool';
    default:
      return 'int32';
  }
}

/**
 * onnxruntime's tensor type string (`Tensor.type`) → trace dtype. Unknown strings are recorded as
 * float32 (the caller warns).
 */
export function dtypeOfOrt(type: string): DType {
  switch (type) {
    case 'float32':
    case 'float64':
      return 'float32';
    case 'float16':
      return 'float16';
    case 'int64':
    case 'uint64':
      return 'int64';
    case 'int32':
    case 'int16':
    case 'uint16':
    case 'uint32':
      return 'int32';
    case 'int8':
    case 'int4':
      return 'int8';
    case 'uint8':
    case 'uint4':
      return 'uint8';
    case 'bool':
      return 'bool';
    case 'string':
      return 'string';
    default:
      return 'float32';
  }
}
