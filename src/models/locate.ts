/**
 * Finding the model a trace ran, by the identity hash it records (`header.model.sha256`), among the
 * known model folders (`models/*` under the working directory). A trace's `model.name` is a label: it
 * is never joined to a path; it only decides which folder is hashed first (a folder whose name is
 * exactly that label, as listed by readdir), so the common case hashes one model.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ExrayInputError } from '../errors.ts';
import { modelHash } from './hash.ts';

/** The known model folders: `models/` of the working directory. */
export const DEFAULT_MODEL_ROOTS: readonly string[] = ['models'];

const hashes = new Map<string, Promise<string | null>>();

/** The identity hash of the model in `dir` (sha256 of the `.onnx`, or of model.json + shards), or null when it is no model. */
export function folderModelHash(dir: string): Promise<string | null> {
  let h = hashes.get(dir);
  if (!h) {
    h = (async () => {
      try {
        const { isOnnxModelPath, onnxModelHash } = await import('../reference/ort-node.ts');
        return (await isOnnxModelPath(dir)) ? await onnxModelHash(dir) : await modelHash(dir);
      } catch {
        return null; // not a model folder, not extracted, or broken: never a match
      }
    })();
    hashes.set(dir, h);
  }
  return h;
}

/** The folder under `roots` whose model has identity hash `sha256`, or null. */
export async function findModelBySha256(sha256: string, opts: { hint?: string; roots?: readonly string[] } = {}): Promise<string | null> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
  for (const root of opts.roots ?? DEFAULT_MODEL_ROOTS) {
    const names = (await readdir(root).catch(() => [] as string[])).sort();
    // The label only reorders the folders readdir listed; it is compared, never joined.
    const i = opts.hint === undefined ? -1 : names.indexOf(opts.hint);
    if (i > 0) names.unshift(...names.splice(i, 1));
    for (const name of names) {
      const dir = join(root, name);
      if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
      if ((await folderModelHash(dir)) === sha256) return dir;
    }
  }
  return null;
}

/**
 * The model folder for replaying `trace` (`reference`, `diagnose` without --model): found by its
 * sha256, else an error naming the trace file and saying to pass --model.
 */
export async function locateTraceModel(trace: { header: { model: { name: string; sha256: string } } }, traceFile: string, roots: readonly string[] = DEFAULT_MODEL_ROOTS): Promise<string> {
  const { name, sha256 } = trace.header.model;
  const label = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new ExrayInputError(traceFile, `the trace records no model sha256 (model ${label}), so its model cannot be found: pass --model <dir>`);
  }
  const dir = await findModelBySha256(sha256, { hint: name, roots });
  if (dir === null) {
    throw new ExrayInputError(traceFile, `no model in ${roots.map((r) => `${r}/`).join(', ')} has this trace's sha256 ${sha256.slice(0, 12)}… (model ${label}): pass --model <dir>`);
  }
  return dir;
}
