/**
 * The model store API of `exray serve` (`/api/models`), shared by the server (src/server/model-store.ts)
 * and the page (src/viewer/remote/server-models.ts). Pure: no Node, no DOM.
 *
 * A model upload is a zip of plain files (no folders): a TF.js model.json (any name ending `.json`) and
 * the weight shards its manifest names, or one `.onnx` file; optionally the model card `exray.json`.
 * The server stores it under the sha256 the trace records (ModelIdentity.sha256), once.
 */
import { z } from 'zod';
import { modelCardSchema, type ModelCard } from '../models/card-schema.ts';
import { SHA256_PATTERN } from './wire.ts';

/** One file of an uploaded model: a plain name, never a path. */
export const MODEL_FILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type ModelOrigin = 'sample' | 'uploaded';
export type StoredModelFormat = 'tfjs-graph' | 'tfjs-layers' | 'onnx';

/** A row of `GET /api/models` (and the body of `GET /api/models/<sha256>`). */
export interface ModelListing {
  sha256: string;
  /** A label: the card's name, the name given with the upload, or `model-<sha8>`. Never a path. */
  name: string;
  format: StoredModelFormat;
  /** The model's files in load order (model.json then its shards in manifest order; or the .onnx file). */
  files: string[];
  /** Total bytes of `files`. */
  bytes: number;
  card: ModelCard | null;
  origin: ModelOrigin;
}

export const modelListingSchema = z.strictObject({
  sha256: z.string().regex(SHA256_PATTERN),
  name: z.string().min(1).max(200),
  format: z.enum(['tfjs-graph', 'tfjs-layers', 'onnx']),
  files: z.array(z.string().regex(MODEL_FILE_PATTERN)).min(1),
  bytes: z.number().int().nonnegative(),
  card: modelCardSchema.nullable(),
  origin: z.enum(['sample', 'uploaded']),
});

/** The answer of `PUT /api/models/<sha256>`. */
export interface ModelUploadResult {
  status: 'stored' | 'already stored';
  model: ModelListing;
}

/** `GET /api/models` as the page reads it: rows that do not parse are dropped (and counted). */
export function parseModelListings(json: unknown): { models: ModelListing[]; dropped: number } {
  if (!Array.isArray(json)) return { models: [], dropped: 0 };
  const models: ModelListing[] = [];
  let dropped = 0;
  for (const row of json) {
    const r = modelListingSchema.safeParse(row);
    if (r.success) models.push(r.data);
    else dropped++;
  }
  return { models, dropped };
}

/** A label for a model from free text: printable, at most 100 characters (null when nothing is left). */
export function modelLabel(text: string | null | undefined): string | null {
  if (!text) return null;
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 100);
  return clean === '' ? null : clean;
}
