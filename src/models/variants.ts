/**
 * Re-quantized copies of a TF.js model, with the converter's own weight encodings, so a user sees what
 * quantizing would cost before deploying it (`exray variants`):
 *
 * - `float16`: each float32 weight stored as IEEE half (round to nearest even, like numpy's
 *   `astype(np.float16)` in tensorflowjs/quantization.py), manifest `quantization: { dtype: 'float16' }`.
 * - `uint8` / `uint16`: per-tensor affine, exactly the converter's `quantize_weights`: scale =
 *   (max − min) / (2^bits − 1); when 0 lies in [min, max] the range is nudged so 0 is exact
 *   (min = −round(−min / scale)·scale); q = round((clip(x, min, max) − min) / scale); manifest
 *   `quantization: { dtype, min, scale }`; TF.js dequantizes as q·scale + min.
 *
 * Weights already quantized in the source are dequantized first (as TF.js would load them) and
 * re-encoded. Integer and bool weights are copied unchanged. Node only (reads and writes files).
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { readInputBytes } from '../read-input.ts';
import { checkOutputDir, writeOutputFile } from '../io/outputs.ts';
import { CARD_FILE_NAME, loadModelCard } from './card.ts';
import { checkShards, readTfjsModelJson, type WeightEntry, type WeightQuantization } from './manifest.ts';
import { modelCardPath, resolveModelJsonPath } from './load-node.ts';
import { fromHalfBits, toHalfBits } from '../trace/half.ts';

export const VARIANT_DTYPES = ['float16', 'uint8', 'uint16'] as const;
export type VariantDType = (typeof VARIANT_DTYPES)[number];

/** Largest shard written (TF.js's converter default is 4 MB). */
const SHARD_BYTES = 4 * 1024 * 1024;

// ---- half floats ------------------------------------------------------------------------------------

// One implementation for the project (round to nearest even, subnormals, ±Infinity, NaN): src/trace/half.ts.
export { fromHalfBits, toHalfBits } from '../trace/half.ts';

// ---- affine quantization (tensorflowjs/quantization.py) ---------------------------------------------

/** numpy.round: half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

export interface AffineQuantized {
  q: Uint8Array | Uint16Array;
  min: number;
  scale: number;
}

export function quantizeAffine(data: Float32Array, dtype: 'uint8' | 'uint16'): AffineQuantized {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  const q = dtype === 'uint8' ? new Uint8Array(data.length) : new Uint16Array(data.length);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (data.length === 0 || lo === hi) return { q, min: data.length ? lo : 0, scale: 1 };
  const scale = (hi - lo) / qmax;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    const zero = roundHalfEven(-lo / scale);
    min = -zero * scale;
    max = qmax * scale + min;
  }
  for (let i = 0; i < data.length; i++) {
    const v = Math.min(max, Math.max(min, data[i] as number));
    q[i] = Math.min(qmax, Math.max(0, roundHalfEven((v - min) / scale)));
  }
  return { q, min, scale };
}

// ---- reading any stored weight ------------------------------------------------------------------------

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

function storedBytes(w: WeightEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization) return n * (w.quantization.dtype === 'uint8' ? 1 : 2);
  const b = BYTES[w.dtype];
  if (b === undefined) throw new RangeError(`weight ${w.name}: dtype ${w.dtype} is not supported by exray variants`);
  return n * b;
}

/** A weight's values as TF.js loads them (dequantized float32, or int32/bool as stored). */
export function decodeWeight(w: WeightEntry, bytes: Uint8Array): Float32Array | Int32Array | Uint8Array {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = w.quantization;
  if (q) {
    const out = new Float32Array(n);
    if (q.dtype === 'float16') for (let i = 0; i < n; i++) out[i] = fromHalfBits(view.getUint16(2 * i, true));
    else {
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      for (let i = 0; i < n; i++) out[i] = (q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true)) * scale + min;
    }
    return out;
  }
  if (w.dtype === 'float32') {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (w.dtype === 'int32') {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
    return out;
  }
  return bytes.slice(0, n);
}

/** Encode float32 values with a variant dtype: the stored bytes and the manifest `quantization`. */
export function encodeWeight(values: Float32Array, dtype: VariantDType): { bytes: Uint8Array; quantization: WeightQuantization } {
  if (dtype === 'float16') {
    const bytes = new Uint8Array(values.length * 2);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setUint16(2 * i, toHalfBits(values[i] as number), true);
    return { bytes, quantization: { dtype: 'float16' } };
  }
  const { q, min, scale } = quantizeAffine(values, dtype);
  const bytes = new Uint8Array(q.buffer, q.byteOffset, q.byteLength).slice();
  if (dtype === 'uint16') {
    // Little-endian on disk whatever the host.
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < q.length; i++) view.setUint16(2 * i, q[i] as number, true);
  }
  return { bytes, quantization: { dtype, min, scale } };
}

export interface VariantSummary {
  dtype: VariantDType;
  outDir: string;
  /** Float weights re-encoded / weights copied unchanged. */
  quantized: number;
  copied: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Per re-encoded weight: max |dequantized − original| relative to the weight's range (worst first, top 10). */
  worst: { name: string; relError: number }[];
}

/**
 * Write a re-quantized copy of the TF.js model in `modelDir` to `outDir` (model.json, shards, and the
 * model card when there is one, renamed `<name>-<dtype>`).
 */
export async function writeVariant(modelDir: string, dtype: VariantDType, outDir: string): Promise<VariantSummary> {
  if (!(VARIANT_DTYPES as readonly string[]).includes(dtype)) throw new ExrayInputError(dtype, `weights must be one of ${VARIANT_DTYPES.join(', ')}`);
  const { dir, modelJsonPath } = await resolveModelJsonPath(modelDir);
  // Never into the source folder (it would overwrite the original model.json, shards and card).
  await checkOutputDir(outDir, [dir]);
  const { model } = await readTfjsModelJson(modelJsonPath);
  const shards = await checkShards(dir, model, modelJsonPath);
  const parts: Uint8Array[] = [];
  const weights: WeightEntry[] = [];
  const worst: { name: string; relError: number }[] = [];
  let quantized = 0;
  let copied = 0;
  let bytesBefore = 0;
  let shardIndex = 0;
  for (const group of model.weightsManifest) {
    const groupShards = shards.slice(shardIndex, shardIndex + group.paths.length);
    shardIndex += group.paths.length;
    const buffers = await Promise.all(groupShards.map((s) => readInputBytes(s.abs)));
    const blob = new Uint8Array(buffers.reduce((a, b) => a + b.byteLength, 0));
    let at = 0;
    for (const b of buffers) {
      blob.set(b, at);
      at += b.byteLength;
    }
    bytesBefore += blob.byteLength;
    let offset = 0;
    for (const w of group.weights) {
      const size = storedBytes(w);
      const stored = blob.subarray(offset, offset + size);
      offset += size;
      const values = decodeWeight(w, stored);
      if (values instanceof Float32Array && (w.dtype === 'float32' || w.quantization)) {
        const enc = encodeWeight(values, dtype);
        const back = decodeWeight({ name: w.name, shape: w.shape, dtype: 'float32', quantization: enc.quantization }, enc.bytes) as Float32Array;
        let lo = Number.POSITIVE_INFINITY;
        let hi = Number.NEGATIVE_INFINITY;
        let maxErr = 0;
        for (let i = 0; i < values.length; i++) {
          const v = values[i] as number;
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
          maxErr = Math.max(maxErr, Math.abs((back[i] as number) - v));
        }
        worst.push({ name: w.name, relError: hi > lo ? maxErr / (hi - lo) : maxErr });
        parts.push(enc.bytes);
        weights.push({ name: w.name, shape: w.shape, dtype: 'float32', quantization: enc.quantization });
        quantized++;
      } else {
        parts.push(stored.slice());
        weights.push({ name: w.name, shape: w.shape, dtype: w.dtype });
        copied++;
      }
    }
  }
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const all = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    all.set(p, pos);
    pos += p.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  await mkdir(outDir, { recursive: true });
  for (let i = 0; i < count; i++) await writeOutputFile(join(outDir, paths[i]!), all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)));
  const json = { ...model.json, weightsManifest: [{ paths, weights }] };
  await writeOutputFile(join(outDir, 'model.json'), JSON.stringify(json));
  // The card beside the model: <stem>.exray.json, or the folder's exray.json (modelCardPath).
  const cardPath = await modelCardPath(modelDir);
  if (cardPath) {
    const card = await loadModelCard(cardPath);
    const renamed = {
      ...card,
      name: `${card.name}-${dtype}`,
      description: `exray variant: ${card.name} with its float weights re-encoded as ${dtype} (converter encoding). ${card.description}`,
      modelFile: 'model.json',
    };
    await writeOutputFile(join(outDir, CARD_FILE_NAME), `${JSON.stringify(renamed, null, 2)}\n`);
  }
  worst.sort((a, b) => b.relError - a.relError);
  return { dtype, outDir, quantized, copied, bytesBefore, bytesAfter: total, worst: worst.slice(0, 10) };
}

/** Default output directory: `<model dir>-<dtype>` next to the model. */
export function defaultVariantDir(modelDir: string, dtype: VariantDType): string {
  const base = basename(modelDir.replace(/\/+$/, '')).replace(/\.json$/i, '');
  return join(modelDir, '..', `${base}-${dtype}`);
}
