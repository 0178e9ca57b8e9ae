/**
 * TF.js `model.json` reading and weight-shard checking, shared by extraction, hashing and loading.
 *
 * A TF.js model is a `model.json` (topology + `weightsManifest`) plus binary shards. Within one manifest
 * group, TF.js concatenates the group's shards in order and slices the weights out of them in manifest
 * order, so the group's shards together must hold exactly the sum of the group's weight sizes.
 * Pure (parsing and sizes): the page uses it too. File checks are in manifest.ts (Node).
 */
import { ExrayInputError } from '../errors.ts';

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightGroup {
  paths: string[];
  weights: WeightEntry[];
}

export type TfjsModelKind = 'tfjs-graph' | 'tfjs-layers';

/** The parts of a TF.js model.json that exray relies on; the full JSON is kept in `json`. */
export interface TfjsModelJson {
  kind: TfjsModelKind;
  weightsManifest: WeightGroup[];
  json: Record<string, unknown>;
}

const BYTES_PER_DTYPE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const BYTES_PER_QUANTIZED: Record<WeightQuantization['dtype'], number> = { uint8: 1, uint16: 2, float16: 2 };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Byte size of one weight as stored in a shard, or null when it cannot be known (string weights). */
export function weightByteSize(w: WeightEntry): number | null {
  const elements = w.shape.reduce((a, b) => a * b, 1);
  if (w.quantization) return elements * BYTES_PER_QUANTIZED[w.quantization.dtype];
  const per = BYTES_PER_DTYPE[w.dtype];
  return per === undefined ? null : elements * per;
}

/** Validate the structure of a parsed model.json; `file` names it in errors. */
export function parseTfjsModelJson(json: unknown, file: string): TfjsModelJson {
  if (!isRecord(json)) throw new ExrayInputError(file, 'is not a TF.js model: top level must be a JSON object');
  const topo = json['modelTopology'];
  if (!isRecord(topo)) throw new ExrayInputError(file, 'is not a TF.js model: modelTopology is missing or not an object');
  let kind: TfjsModelKind;
  const format = json['format'];
  if (format === 'graph-model') kind = 'tfjs-graph';
  else if (format === 'layers-model') kind = 'tfjs-layers';
  else if (format !== undefined) throw new ExrayInputError(file, `format must be "graph-model" or "layers-model", got ${JSON.stringify(format)}`);
  else if (Array.isArray(topo['node'])) kind = 'tfjs-graph';
  else if (isRecord(topo['model_config']) || typeof topo['class_name'] === 'string') kind = 'tfjs-layers';
  else throw new ExrayInputError(file, 'is not a TF.js model: modelTopology has neither node[] (graph) nor model_config (layers)');

  const manifest = json['weightsManifest'];
  if (manifest === undefined) return { kind, weightsManifest: [], json };
  if (!Array.isArray(manifest)) throw new ExrayInputError(file, 'weightsManifest must be an array');
  const groups: WeightGroup[] = manifest.map((g: unknown, gi: number): WeightGroup => {
    const where = `weightsManifest[${gi}]`;
    if (!isRecord(g)) throw new ExrayInputError(file, `${where} must be an object`);
    const paths = g['paths'];
    const weights = g['weights'];
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new ExrayInputError(file, `${where}.paths must be a non-empty array of file names`);
    }
    if (!Array.isArray(weights)) throw new ExrayInputError(file, `${where}.weights must be an array`);
    const ws = weights.map((w: unknown, wi: number): WeightEntry => {
      const ww = `${where}.weights[${wi}]`;
      if (!isRecord(w)) throw new ExrayInputError(file, `${ww} must be an object`);
      const name = w['name'];
      const shape = w['shape'];
      const dtype = w['dtype'];
      if (typeof name !== 'string') throw new ExrayInputError(file, `${ww}.name must be a string`);
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new ExrayInputError(file, `${ww}.shape must be an array of non-negative integers`);
      }
      if (typeof dtype !== 'string') throw new ExrayInputError(file, `${ww}.dtype must be a string`);
      const entry: WeightEntry = { name, shape: shape as number[], dtype };
      const q = w['quantization'];
      if (q !== undefined) {
        if (!isRecord(q) || (q['dtype'] !== 'uint8' && q['dtype'] !== 'uint16' && q['dtype'] !== 'float16')) {
          throw new ExrayInputError(file, `${ww}.quantization.dtype must be "uint8", "uint16" or "float16"`);
        }
        entry.quantization = q as unknown as WeightQuantization;
      }
      return entry;
    });
    return { paths: paths as string[], weights: ws };
  });
  return { kind, weightsManifest: groups, json };
}

