/**
 * Models uploaded to `exray serve` (by the desktop or a paired phone), so the server can run the
 * desktop reference of a model it did not bundle: `<data>/models/<sha256>/` holds one model's files
 * (`model.json` + its shards as the manifest names them, or `model.onnx`; `exray.json` when a card
 * came with it) and `.upload.json` (label, who, when).
 *
 * An upload (a zip, model-zip.ts) is extracted into a temporary directory inside `<data>/models/`, its
 * identity hash computed with the code the trace uses (modelIdentityHash) and compared with the sha256
 * the URL names, then the directory is renamed to `<sha256>` in one step: a model is stored once, and
 * a reader never sees half a model. Limits: per model (inflated) and in total.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { ExrayInputError } from '../errors.ts';
import { CARD_FILE_NAME } from '../models/card-schema.ts';
import { modelIdentityHash } from '../reference/trace-node.ts';
import { modelLabel, type ModelListing, type ModelUploadResult } from '../transport/models-api.ts';
import { SHA256_PATTERN } from '../transport/wire.ts';
import { fsyncDir } from './atomic.ts';
import { describeModelDir, type IndexedModel } from './models.ts';
import { fmtMiB, MiB, ModelUploadError, planModel, readEntry, scanZip } from './model-zip.ts';

export { ModelUploadError } from './model-zip.ts';

export interface ModelStoreLimits {
  /** Inflated bytes of one model. */
  modelBytes: number;
  /** Inflated bytes of every uploaded model together. */
  totalBytes: number;
}

export const DEFAULT_MODEL_LIMITS: ModelStoreLimits = { modelBytes: 512 * MiB, totalBytes: 4096 * MiB };

/** The largest request body taken for a model of `limits.modelBytes` (a zip adds headers). */
export function maxUploadBytes(limits: ModelStoreLimits): number {
  return limits.modelBytes + 4 * MiB;
}

/** Not a plain name (leading dot): an entry of an upload can never be called this. */
const META_FILE = '.upload.json';
const TEMP_PREFIX = '.tmp-';

const metaSchema = z.strictObject({
  version: z.literal(1),
  sha256: z.string().regex(SHA256_PATTERN),
  name: z.string().min(1).max(200),
  uploadedAt: z.string(),
  by: z.string().max(100),
});

export function listingOf(m: IndexedModel): ModelListing {
  return { sha256: m.sha256, name: m.name, format: m.format, files: m.files, bytes: m.bytes, card: m.card, origin: m.origin };
}

/** Write and fsync a new file (`wx`: never through something already there). */
async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class ModelStore {
  private readonly models = new Map<string, IndexedModel>();
  /** Bytes of uploads being extracted now (counted against the total limit). */
  private pending = 0;

  private constructor(
    readonly root: string,
    readonly limits: ModelStoreLimits,
  ) {}

  /** Opens (creates) `<dataDir>/models`, drops temporary directories an interrupted upload left. */
  static async open(dataDir: string, limits: Partial<ModelStoreLimits> = {}): Promise<ModelStore> {
    const store = new ModelStore(join(dataDir, 'models'), { ...DEFAULT_MODEL_LIMITS, ...limits });
    await mkdir(store.root, { recursive: true });
    for (const name of (await readdir(store.root)).sort()) {
      const dir = join(store.root, name);
      if (name.startsWith(TEMP_PREFIX)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (!SHA256_PATTERN.test(name)) continue;
      try {
        const meta = metaSchema.parse(JSON.parse(await readFile(join(dir, META_FILE), 'utf8')));
        if (meta.sha256 !== name) continue;
        store.models.set(name, await describeModelDir(dir, name, meta.name, 'uploaded'));
      } catch (e) {
        process.stderr.write(`exray serve: ignoring ${dir}: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    return store;
  }

  /** The stored model's directory (for the reference), or null. */
  locate(sha256: string): string | null {
    return this.models.get(sha256)?.dir ?? null;
  }

  get(sha256: string): IndexedModel | null {
    return this.models.get(sha256) ?? null;
  }

  list(): ModelListing[] {
    return [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name) || a.sha256.localeCompare(b.sha256)).map(listingOf);
  }

  bytesStored(): number {
    let n = 0;
    for (const m of this.models.values()) n += m.bytes;
    return n;
  }

  /**
   * Store the model in `zip` under `sha256` (which its identity hash must equal). Already stored:
   * nothing is read or written. Throws ModelUploadError (status + one line) when refused.
   */
  async put(sha256: string, zip: Uint8Array, opts: { name?: string | null; by: string }): Promise<ModelUploadResult> {
    if (!SHA256_PATTERN.test(sha256)) throw new ModelUploadError(400, `not a sha256: ${JSON.stringify(sha256.slice(0, 80))}`);
    const have = this.models.get(sha256);
    if (have) return { status: 'already stored', model: listingOf(have) };
    const entries = scanZip(zip, this.limits.modelBytes);
    const plan = planModel(zip, entries);
    const size = new Map(entries.map((e) => [e.name, e.bytes]));
    const need = plan.files.reduce((a, f) => a + (size.get(f.entry) ?? 0), 0);
    const stored = this.bytesStored();
    if (stored + this.pending + need > this.limits.totalBytes) {
      throw new ModelUploadError(507, `the model store is full: ${fmtMiB(stored + this.pending)} stored, this model needs ${fmtMiB(need)}, the limit is ${fmtMiB(this.limits.totalBytes)}`);
    }
    this.pending += need;
    const tmp = join(this.root, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(tmp);
      for (const f of plan.files) await writeDurable(join(tmp, f.stored), readEntry(zip, f.entry));
      if (plan.card) await writeDurable(join(tmp, CARD_FILE_NAME), `${JSON.stringify(plan.card, null, 2)}\n`);
      let hash: string;
      try {
        hash = await modelIdentityHash(tmp);
      } catch (e) {
        if (e instanceof ExrayInputError) throw new ModelUploadError(400, `${basename(e.file)}: ${e.problem}`);
        throw e;
      }
      if (hash !== sha256) {
        throw new ModelUploadError(400, `the model's sha256 is ${hash}, but the URL says ${sha256} (${plan.format === 'onnx' ? 'sha256 of the .onnx file' : 'sha256 over model.json, then its shards in manifest order'})`);
      }
      const name = modelLabel(plan.card?.name) ?? modelLabel(opts.name) ?? `model-${sha256.slice(0, 8)}`;
      await writeDurable(join(tmp, META_FILE), `${JSON.stringify({ version: 1, sha256, name, uploadedAt: new Date().toISOString(), by: opts.by.slice(0, 100) })}\n`);
      await fsyncDir(tmp);
      const dir = join(this.root, sha256);
      try {
        await rename(tmp, dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        // Another upload of the same model won: it is stored once, and this copy goes.
        await rm(tmp, { recursive: true, force: true });
        const other = this.models.get(sha256) ?? (await describeModelDir(dir, sha256, name, 'uploaded'));
        return { status: 'already stored', model: listingOf(other) };
      }
      await fsyncDir(this.root);
      const model = await describeModelDir(dir, sha256, name, 'uploaded');
      this.models.set(sha256, model);
      return { status: 'stored', model: listingOf(model) };
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      this.pending -= need;
    }
  }

  /** Remove an uploaded model (renamed away first, so a reader sees all of it or nothing). */
  async remove(sha256: string): Promise<boolean> {
    const m = this.models.get(sha256);
    if (!m) return false;
    this.models.delete(sha256);
    const gone = join(this.root, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    await rename(m.dir, gone);
    await rm(gone, { recursive: true, force: true });
    return true;
  }
}

/** The path of `file` of a listed model: looked up among the model's own files, never joined unchecked. */
export async function modelFilePath(m: IndexedModel, file: string): Promise<string | null> {
  const names = m.card ? [...m.files, CARD_FILE_NAME] : m.files;
  if (!names.includes(file)) return null;
  const path = join(m.dir, file);
  return (await stat(path).then((s) => s.isFile(), () => false)) ? path : null;
}
