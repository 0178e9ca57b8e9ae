/**
 * What precision a trace ran at, read from its header alone (pure: no DOM, no Node), and the
 * tolerance preset that matches it. Used by `compareTraces` when `autoPreset` is on (the `compare`
 * command and the viewer); the farm and the diagnosis judge against float32 unless configured.
 */
import { STORAGE_RELATIVE_ERROR } from '../trace/blob-codec.ts';
import type { TraceHeader } from '../trace/types.ts';
import type { PrecisionPreset } from './tolerance.ts';

export interface TracePrecision {
  /** float32 unless the trace shows half-float arithmetic, fp16 / int8 tensors or values stored narrowed. */
  preset: 'float32' | 'float16' | 'int8';
  /** Why, in words (`half-float textures (floatPrecision 16)`); empty for float32. */
  why: string[];
}

/** Ops that only quantized (int8 / uint8) ONNX graphs contain. */
const QUANT_OPS = new Set([
  'DynamicQuantizeLinear',
  'QuantizeLinear',
  'DequantizeLinear',
  'ConvInteger',
  'MatMulInteger',
  'QLinearConv',
  'QLinearMatMul',
  'QLinearAdd',
  'QLinearMul',
  'QLinearSigmoid',
  'QLinearLeakyRelu',
  'QLinearGlobalAveragePool',
  'QLinearAveragePool',
  'QLinearConcat',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
]);

/** The precision one trace ran at, from its environment (half-float textures) and its graph (fp16 tensors, quantization ops). */
export function tracePrecision(h: TraceHeader): TracePrecision {
  const why16: string[] = [];
  const why8: string[] = [];
  const e = h.environment;
  if (e.floatPrecision === 16) why16.push('half-float arithmetic (floatPrecision 16)');
  else if (e.flags['WEBGL_FORCE_F16_TEXTURES'] === true) why16.push('half-float textures (WEBGL_FORCE_F16_TEXTURES)');
  else if (e.webgl && !e.webgl.floatTextures && h.runtime.backend === 'webgl') why16.push('half-float textures (no float32 render targets)');
  const quantOps = new Set<string>();
  let fp16 = 0;
  for (const n of h.nodes) {
    if (QUANT_OPS.has(n.op)) quantOps.add(n.op);
    for (const o of n.outputs) if (o.dtype === 'float16') fp16++;
  }
  for (const io of [...h.model.inputs, ...h.model.outputs]) if (io.dtype === 'float16') fp16++;
  if (fp16 > 0) why16.push(`fp16 tensors (${fp16} float16 ${fp16 === 1 ? 'tensor' : 'tensors'})`);
  // Values stored narrowed (`exray trace --precision`) carry the storage rounding on top of the run's.
  if (h.storagePrecision) why16.push(storageWhy(h.storagePrecision));
  if (quantOps.size > 0) why8.push(`int8 quantization (${[...quantOps].slice(0, 3).join(', ')})`);
  if (why8.length > 0) return { preset: 'int8', why: [...why8, ...why16] };
  if (why16.length > 0) return { preset: 'float16', why: why16 };
  return { preset: 'float32', why: [] };
}

/** `values stored as float16 (relative error ≤ 2^-11 = 4.9e-4 per value)`. */
export function storageWhy(p: 'float16' | 'bfloat16'): string {
  const e = STORAGE_RELATIVE_ERROR[p];
  return `values stored as ${p} (relative error ≤ 2^${Math.log2(e)} = ${e.toExponential(1)} per value)`;
}

const RANK: Record<TracePrecision['preset'], number> = { float32: 0, float16: 1, int8: 2 };

/**
 * The preset matching the lower precision of the two traces, with its reason
 * (`edge: half-float textures (floatPrecision 16)`), or null when both ran at float32.
 */
export function matchingPreset(edge: TraceHeader, ref: TraceHeader): { preset: PrecisionPreset; reason: string } | null {
  const e = tracePrecision(edge);
  const r = tracePrecision(ref);
  const lower = RANK[r.preset] > RANK[e.preset] ? r : e;
  if (lower.preset === 'float32') return null;
  const parts: string[] = [];
  if (e.preset === lower.preset) parts.push(`edge: ${e.why.join(', ')}`);
  if (r.preset === lower.preset) parts.push(`reference: ${r.why.join(', ')}`);
  return { preset: lower.preset, reason: parts.join('; ') };
}
