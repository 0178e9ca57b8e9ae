/**
 * A farm's inputs: photos, tensor files, folders of them, and input sets for models with several
 * inputs (a `sets.json` as in public/samples/tensors/<model>/: each set names a file per model input).
 * Nothing in sets.json becomes a path outside its folder: file names are plain names in that folder.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ExrayInputError } from '../errors.ts';
import type { FeedTensor } from '../trace/tensor-file.ts';

const PHOTO = /\.(jpe?g|png|webp|gif|bmp|avif|tiff?)$/i;
const TENSOR = /\.(npy|json)$/i;
export const SETS_FILE = 'sets.json';
/** sets.json is a small index; anything larger is not one. */
const MAX_SETS_BYTES = 1 << 20;

export interface FarmInput {
  /** Display name (file or set name), unique within the model. */
  name: string;
  /** The photo or tensor file; for a set, its sets.json. */
  file: string;
  kind: 'photo' | 'tensor' | 'set';
  /** A set's tensors as `exray trace --input` takes them: `name=path`. */
  tensors?: string[];
}

const plainName = z.string().min(1).max(255).refine((f) => !/[\\/]/.test(f) && f !== '.' && f !== '..', 'expected a file name in the same folder (no path)');
const setsSchema = z.object({
  sets: z.array(z.object({
    name: z.string().min(1).max(120),
    description: z.string().optional(),
    files: z.record(z.string().min(1).max(200), plainName).refine((r) => Object.keys(r).length > 0, 'expected at least one input file'),
  })).min(1).max(1000),
});

async function readSets(file: string): Promise<FarmInput[]> {
  const s = await stat(file);
  if (!s.isFile()) throw new ExrayInputError(file, 'not a regular file');
  if (s.size > MAX_SETS_BYTES) throw new ExrayInputError(file, `${s.size} bytes: an input-set index is at most ${MAX_SETS_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ExrayInputError(file, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = setsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ExrayInputError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const dir = dirname(file);
  const out: FarmInput[] = [];
  for (const [k, set] of parsed.data.sets.entries()) {
    const tensors: string[] = [];
    for (const [input, name] of Object.entries(set.files)) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) throw new ExrayInputError(file, `sets[${k}].files.${input}: ${name} is not a file beside sets.json`);
      tensors.push(`${input}=${path}`);
    }
    out.push({ name: set.name, file, kind: 'set', tensors });
  }
  return out;
}

/**
 * Inputs of input paths: a photo or tensor file itself; a sets.json; a folder's sets (when it holds a
 * sets.json) or else the photos and tensor files directly inside it, sorted.
 */
export async function expandInputs(paths: readonly string[], where: string): Promise<FarmInput[]> {
  const out: FarmInput[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => null);
    if (!s) throw new ExrayInputError(where, `input ${p} does not exist`);
    if (s.isFile() && basename(p) === SETS_FILE) {
      out.push(...(await readSets(p)));
      continue;
    }
    if (s.isDirectory()) {
      const names = (await readdir(p)).sort();
      if (names.includes(SETS_FILE)) {
        out.push(...(await readSets(join(p, SETS_FILE))));
        continue;
      }
      for (const f of names) {
        if (PHOTO.test(f)) out.push({ name: f, file: join(p, f), kind: 'photo' });
        else if (TENSOR.test(f)) out.push({ name: f, file: join(p, f), kind: 'tensor' });
      }
      continue;
    }
    if (PHOTO.test(p)) out.push({ name: basename(p), file: p, kind: 'photo' });
    else if (TENSOR.test(p)) out.push({ name: basename(p), file: p, kind: 'tensor' });
    else throw new ExrayInputError(p, 'not a photo, a tensor file (.npy, .json) or a sets.json');
  }
  if (out.length === 0) throw new ExrayInputError(where, `no photos, tensor files or input sets in ${paths.join(', ')}`);
  const seen = new Map<string, number>();
  for (const i of out) {
    const n = seen.get(i.name) ?? 0;
    seen.set(i.name, n + 1);
    if (n > 0) i.name = `${i.name}~${n}`;
  }
  return out;
}

/** How prepareInput (`exray trace`) takes this input. */
export function prepareOptions(input: FarmInput): { image: string } | { input: string[] } {
  if (input.kind === 'photo') return { image: input.file };
  if (input.kind === 'set') return { input: input.tensors ?? [] };
  return { input: [input.file] };
}

interface CardTensorInput {
  name: string;
  shape: (number | null)[];
  dtype: string;
  fill?: number | undefined;
}

/**
 * A set may leave out inputs whose card gives a `fill` default (a first frame's zero state, a sample
 * rate): those are filled over the declared shape, symbolic dimensions 1, as the page does.
 * The names of what was filled are returned so the run can say so.
 */
export function fillFromCard(feed: FeedTensor[], inputs: readonly CardTensorInput[] | undefined): { feed: FeedTensor[]; filled: string[] } {
  if (!inputs) return { feed, filled: [] };
  const have = new Set(feed.map((f) => f.name));
  const out = [...feed];
  const filled: string[] = [];
  for (const spec of inputs) {
    if (have.has(spec.name) || spec.fill === undefined) continue;
    const shape = spec.shape.map((d) => d ?? 1);
    const n = shape.reduce((a, b) => a * b, 1);
    const integer = spec.dtype !== 'float32';
    out.push({ name: spec.name, shape, dtype: spec.dtype as FeedTensor['dtype'], data: integer ? new Int32Array(n).fill(spec.fill) : new Float32Array(n).fill(spec.fill) });
    filled.push(`${spec.name}=${spec.fill}`);
  }
  return { feed: out, filled };
}
