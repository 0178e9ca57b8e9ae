/**
 * Output paths of the CLI: checked before a command does any work (so a bad `--out` fails in a second,
 * not after the model ran), and written atomically (io/atomic.ts) with errors that name the file.
 *
 * A file output must not be a directory or anything but a regular file (a device, a FIFO), its folder
 * must exist or be creatable and be writable, and it must not be one of the command's inputs (same
 * inode, so a symbolic or hard link to an input counts too). A folder output (variants, demo, sessions
 * export) must be a folder or creatable, writable, and not a folder an input lives in.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';

/** A write that failed after the checks (disk full, I/O error): exit 1, the file named, nothing replaced. */
export class OutputWriteError extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`${file}: cannot write (${detail}); any previous file there is unchanged`);
    this.name = 'OutputWriteError';
  }
}

function errnoText(e: unknown): { code: string | undefined; text: string } {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err.code === 'string' ? err.code : undefined;
  const known: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large for this file system or limit',
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
    EIO: 'I/O error',
  };
  const text = code && known[code] ? `${known[code]}, ${code}` : (err.message ?? String(e));
  return { code, text };
}

/** The error for a failed write of `file` (ENOSPC and kin worded as every other output write words them). */
export function outputWriteError(file: string, e: unknown): OutputWriteError {
  const { code, text } = errnoText(e);
  return new OutputWriteError(file, code, text);
}

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

/** The nearest existing ancestor of `p` (its folder, or a folder above it), and what it is. */
async function nearestExisting(p: string): Promise<{ path: string; isDir: boolean }> {
  let cur = dirname(resolve(p));
  for (;;) {
    const s = await statOrNull(cur);
    if (s) return { path: cur, isDir: s.isDirectory() };
    const up = dirname(cur);
    if (up === cur) return { path: cur, isDir: false };
    cur = up;
  }
}

async function assertWritableFolderFor(out: string, label: string): Promise<void> {
  const anc = await nearestExisting(out);
  if (!anc.isDir) throw new ExrayInputError(out, `cannot be created: ${anc.path} is not a directory`);
  try {
    await access(anc.path, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new ExrayInputError(out, `${label} ${anc.path} is not writable (${errnoText(e).text})`);
  }
}

/** Inputs that exist, with their identity (device + inode). */
async function inputIds(inputs: readonly string[]): Promise<{ path: string; dev: number; ino: number }[]> {
  const out = [];
  for (const p of inputs) {
    const s = await statOrNull(p);
    if (s) out.push({ path: p, dev: s.dev, ino: s.ino });
  }
  return out;
}

/**
 * Checks a file output before the run: see the module comment. `inputs` are every file the command
 * reads (missing ones are skipped: the command reports those itself).
 */
export async function checkOutputFile(out: string, inputs: readonly string[] = []): Promise<void> {
  const s = await statOrNull(out);
  if (s) {
    if (s.isDirectory()) throw new ExrayInputError(out, 'is a directory (give a file name)');
    if (!s.isFile()) throw new ExrayInputError(out, 'is not a regular file (a device, FIFO or socket is never written)');
    for (const i of await inputIds(inputs)) {
      if (i.dev === s.dev && i.ino === s.ino) {
        throw new ExrayInputError(out, `${i.path === out ? 'is also an input' : `is the same file as the input ${i.path}`} of this command: an output never overwrites an input`);
      }
    }
  }
  await assertWritableFolderFor(out, 'folder');
}

/** Checks several file outputs of one command, and that no two of them are the same file. */
export async function checkOutputFiles(outs: readonly string[], inputs: readonly string[] = []): Promise<void> {
  const seen = new Map<string, string>();
  for (const o of outs) {
    await checkOutputFile(o, inputs);
    const key = await realpath(o).catch(() => resolve(o));
    const other = seen.get(key);
    if (other !== undefined) throw new ExrayInputError(o, `is also given as ${other}: two outputs cannot be one file`);
    seen.set(key, o);
  }
}

/**
 * Checks a folder output (it may not exist yet). `sources` are folders the command reads from: the
 * output may not be one of them (`exray variants D --out D` would overwrite D's model.json).
 */
export async function checkOutputDir(out: string, sources: readonly string[] = []): Promise<void> {
  const s = await statOrNull(out);
  if (s) {
    if (!s.isDirectory()) throw new ExrayInputError(out, 'is not a directory');
    const real = await realpath(out);
    for (const src of sources) {
      const r = await realpath(src).catch(() => null);
      if (r !== null && r === real) throw new ExrayInputError(out, `is the source folder ${src}: write into another folder`);
    }
    try {
      await access(out, constants.W_OK | constants.X_OK);
    } catch (e) {
      throw new ExrayInputError(out, `is not writable (${errnoText(e).text})`);
    }
    return;
  }
  await assertWritableFolderFor(out, 'its folder');
}

/**
 * The files a model path reads (to keep outputs off them): a file as given; in a folder, model.json
 * with its manifest's shards, the model card and its `modelFile`, and any `.onnx`. Best effort: what
 * cannot be parsed here is the loader's to report.
 */
export async function modelInputFiles(model: string): Promise<string[]> {
  const s = await statOrNull(model);
  if (!s) return [];
  if (!s.isDirectory()) return [model, ...(model.endsWith('.json') ? await shardsOf(dirname(model), model) : [])];
  const names = await readdir(model).catch(() => [] as string[]);
  const files = names.filter((n) => n === 'model.json' || n === 'exray.json' || n.endsWith('.onnx')).map((n) => join(model, n));
  if (names.includes('model.json')) files.push(...(await shardsOf(model, join(model, 'model.json'))));
  try {
    const card = JSON.parse((await readSmall(join(model, 'exray.json'))) ?? '') as { modelFile?: unknown };
    if (typeof card.modelFile === 'string') files.push(join(model, card.modelFile));
  } catch {
    // no card, or not one: the loader says so
  }
  return files;
}

/** A small regular file's text, else null (a device, a huge file: the loader reports those). */
async function readSmall(p: string): Promise<string | null> {
  const s = await statOrNull(p);
  if (!s?.isFile() || s.size > 64 * 1024 * 1024) return null;
  return readFile(p, 'utf8');
}

async function shardsOf(dir: string, modelJson: string): Promise<string[]> {
  try {
    const json = JSON.parse((await readSmall(modelJson)) ?? '') as { weightsManifest?: { paths?: unknown }[] };
    const out: string[] = [];
    for (const g of Array.isArray(json.weightsManifest) ? json.weightsManifest : []) {
      for (const p of Array.isArray(g?.paths) ? g.paths : []) if (typeof p === 'string') out.push(join(dir, p));
    }
    return out;
  } catch {
    return [];
  }
}

/**
 * Writes one output atomically, creating its folder when missing. A failure (disk full, …) leaves the
 * previous file untouched and throws an OutputWriteError naming the file.
 */
export async function writeOutputFile(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, data);
  } catch (e) {
    const { code, text } = errnoText(e);
    throw new OutputWriteError(path, code, text);
  }
}
