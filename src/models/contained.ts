/**
 * A model folder's files must be inside it: a symbolic link (the file itself, or a folder on its way)
 * is followed only when its real path stays inside the folder's real path. Without this a shard that
 * is a link to /etc/passwd, or a card's `modelFile` reaching up through a linked folder, would be read
 * as part of the model.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { ExrayInputError } from '../errors.ts';

/**
 * Throws an ExrayInputError naming `file` when its real path is outside the real path of `dir`.
 * Missing files pass (their loader reports them); so does a folder that cannot be resolved.
 */
export async function assertInsideModelFolder(dir: string, file: string): Promise<void> {
  let realFile: string;
  let realDir: string;
  try {
    realDir = await realpath(dir);
    realFile = await realpath(file);
  } catch {
    return;
  }
  const rel = relative(realDir, realFile);
  if (rel === '' || rel === '..' || rel.startsWith(`..${'/'}`) || rel.startsWith('..\\') || isAbsolute(rel)) {
    throw new ExrayInputError(file, 'is a symbolic link (or behind one) that leads outside the model folder: refused (copy the file into the folder)');
  }
}
