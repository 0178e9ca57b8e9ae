/**
 * Reading a model upload (a zip) without trusting it: entry names and sizes are checked from the zip's
 * central directory before anything is inflated (fflate's unzipSync filter sees `originalSize` first,
 * and inflates into a buffer of exactly that size), then the entries are inflated one at a time.
 * Nothing in a file's contents becomes a path: the stored names are `model.json` / `model.onnx` /
 * `exray.json`, and shard names the manifest gives, each checked against MODEL_FILE_PATTERN and
 * present in the zip.
 */
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { ExrayInputError } from '../errors.ts';
import { CARD_FILE_NAME, parseModelCard, type ModelCard } from '../models/card-schema.ts';
import { parseTfjsModelJson, type TfjsModelJson } from '../models/manifest-parse.ts';
import { MODEL_FILE_PATTERN, type StoredModelFormat } from '../transport/models-api.ts';

export const MiB = 1024 * 1024;
/** At most this many entries in one upload. */
export const MAX_ZIP_ENTRIES = 256;

/** An upload refused: the HTTP status and one line naming the problem. */
export class ModelUploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ModelUploadError';
  }
}

export function fmtMiB(bytes: number): string {
  return bytes >= 1024 * MiB ? `${(bytes / (1024 * MiB)).toFixed(1)} GiB` : `${(bytes / MiB).toFixed(1)} MiB`;
}

/** Why an entry name is not a plain file name, or null when it is one. */
export function entryNameProblem(name: string): string | null {
  const shown = JSON.stringify(name.slice(0, 80));
  if (name.includes('\0')) return `entry ${shown} has a NUL character in its name`;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return `entry ${shown} is an absolute path`;
  if (name.split(/[\\/]/).includes('..')) return `entry ${shown} leaves the folder (..)`;
  if (/[\\/]/.test(name)) return `entry ${shown} is in a folder: a model zip holds plain files only (model.json + shards, or one .onnx, and exray.json)`;
  if (!MODEL_FILE_PATTERN.test(name)) return `entry ${shown} is not a plain file name (a letter or digit, then letters, digits, ".", "_" or "-"; at most 128 characters)`;
  return null;
}

export interface ZipEntry {
  name: string;
  /** Inflated size as the central directory declares it (the inflate output is exactly this long). */
  bytes: number;
}

/**
 * The entries of `zip`, checked before anything is inflated: plain names, no duplicates, deflate or
 * stored, each and all together at most `maxBytes` inflated.
 */
export function scanZip(zip: Uint8Array, maxBytes: number): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  if (zip.byteLength < 22) throw new ModelUploadError(400, `the body is not a readable zip (${zip.byteLength} bytes)`);
  const check = (f: UnzipFileInfo): boolean => {
    const problem = entryNameProblem(f.name);
    if (problem) throw new ModelUploadError(400, problem);
    if (seen.has(f.name)) throw new ModelUploadError(400, `entry ${JSON.stringify(f.name)} appears twice in the zip`);
    seen.add(f.name);
    if (seen.size > MAX_ZIP_ENTRIES) throw new ModelUploadError(400, `the zip has more than ${MAX_ZIP_ENTRIES} entries`);
    if (f.compression !== 0 && f.compression !== 8) throw new ModelUploadError(400, `entry ${f.name} uses compression method ${f.compression}: only deflate and stored are read`);
    if (f.originalSize > maxBytes) throw new ModelUploadError(413, `entry ${f.name} would inflate to ${fmtMiB(f.originalSize)}, over the limit of ${fmtMiB(maxBytes)} per model`);
    total += f.originalSize;
    if (total > maxBytes) throw new ModelUploadError(413, `the zip's entries would inflate to more than ${fmtMiB(maxBytes)}, the limit per model`);
    entries.push({ name: f.name, bytes: f.originalSize });
    return false; // nothing is inflated here
  };
  try {
    unzipSync(zip, { filter: check });
  } catch (e) {
    if (e instanceof ModelUploadError) throw e;
    throw new ModelUploadError(400, `the body is not a readable zip (${e instanceof Error ? e.message : String(e)})`);
  }
  if (entries.length === 0) throw new ModelUploadError(400, 'the zip is empty');
  return entries;
}

/** Inflate the one entry `name` (checked by scanZip). */
export function readEntry(zip: Uint8Array, name: string): Uint8Array {
  let out: Uint8Array | undefined;
  try {
    out = unzipSync(zip, { filter: (f) => f.name === name })[name];
  } catch (e) {
    throw new ModelUploadError(400, `entry ${name} cannot be inflated (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!out) throw new ModelUploadError(400, `entry ${name} cannot be read`);
  return out;
}

/** What gets stored: each stored name with the entry it comes from, in load order. */
export interface ModelPlan {
  format: StoredModelFormat;
  /** Stored name → zip entry name; model file first, then shards in manifest order. */
  files: { stored: string; entry: string }[];
  /** The card, its modelFile set to the stored model file name (written as JSON). */
  card: ModelCard | null;
}

const RESERVED = new Set(['model.json', 'model.onnx', CARD_FILE_NAME]);

function parseJsonEntry(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelUploadError(400, `${name} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function inputProblem(e: unknown): never {
  if (e instanceof ExrayInputError) throw new ModelUploadError(400, `${e.file}: ${e.problem}`);
  throw e;
}

/** Which entries make the model, and how they are stored; every other entry is refused by name. */
export function planModel(zip: Uint8Array, entries: readonly ZipEntry[]): ModelPlan {
  const names = new Set(entries.map((e) => e.name));
  const jsons = entries.filter((e) => /\.json$/i.test(e.name) && e.name !== CARD_FILE_NAME).map((e) => e.name);
  const onnx = entries.filter((e) => /\.onnx$/i.test(e.name)).map((e) => e.name);
  if (jsons.length > 0 && onnx.length > 0) throw new ModelUploadError(400, `the zip holds both a TF.js model (${jsons[0]}) and an ONNX model (${onnx[0]}): one model per upload`);
  if (jsons.length > 1) throw new ModelUploadError(400, `the zip holds several .json files (${jsons.join(', ')}): one model.json per upload`);
  if (onnx.length > 1) throw new ModelUploadError(400, `the zip holds several .onnx files (${onnx.join(', ')}): one model per upload`);
  let plan: ModelPlan;
  if (onnx.length === 1) {
    plan = { format: 'onnx', files: [{ stored: 'model.onnx', entry: onnx[0]! }], card: null };
  } else if (jsons.length === 1) {
    const entry = jsons[0]!;
    let parsed: TfjsModelJson;
    try {
      parsed = parseTfjsModelJson(parseJsonEntry(readEntry(zip, entry), entry), entry);
    } catch (e) {
      inputProblem(e);
    }
    const files = [{ stored: 'model.json', entry }];
    for (const [gi, group] of parsed.weightsManifest.entries()) {
      for (const p of group.paths) {
        if (!MODEL_FILE_PATTERN.test(p)) throw new ModelUploadError(400, `${entry} weightsManifest[${gi}] names the shard ${JSON.stringify(p.slice(0, 80))}, which is not a plain file name: only shards next to model.json can be uploaded`);
        if (RESERVED.has(p) || /\.(json|onnx)$/i.test(p)) throw new ModelUploadError(400, `${entry} weightsManifest[${gi}] names the shard ${p}: a shard may not be named like a model file or card`);
        if (!names.has(p)) throw new ModelUploadError(400, `weight shard ${p} listed in ${entry} weightsManifest[${gi}] is missing from the zip`);
        if (!files.some((f) => f.entry === p)) files.push({ stored: p, entry: p });
      }
    }
    plan = { format: parsed.kind, files, card: null };
  } else {
    throw new ModelUploadError(400, 'the zip holds no model: a TF.js model.json with its weight shards, or one .onnx file');
  }
  const used = new Set(plan.files.map((f) => f.entry));
  for (const e of entries) {
    if (!used.has(e.name) && e.name !== CARD_FILE_NAME) throw new ModelUploadError(400, `entry ${e.name} is not part of the model (${plan.format === 'onnx' ? 'an ONNX upload holds the .onnx file' : 'a TF.js upload holds model.json and the shards its weightsManifest names'}, and exray.json)`);
  }
  if (names.has(CARD_FILE_NAME)) {
    let card: ModelCard;
    try {
      card = parseModelCard(parseJsonEntry(readEntry(zip, CARD_FILE_NAME), CARD_FILE_NAME), CARD_FILE_NAME);
    } catch (e) {
      inputProblem(e);
    }
    const tfjsCard = card.format !== 'onnx';
    if (tfjsCard !== (plan.format !== 'onnx') || (tfjsCard && card.format !== plan.format)) {
      throw new ModelUploadError(400, `exray.json says format "${card.format}" but the zip holds a ${plan.format} model`);
    }
    plan.card = { ...card, modelFile: plan.files[0]!.stored };
  }
  return plan;
}
