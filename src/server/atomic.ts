/**
 * Crash-safe file replacement (Node). A reader of `path` sees either the previous content or the new
 * content, never a mix, and a failure part-way (disk full, file-size limit, crash) leaves the previous
 * file untouched: the bytes go to a temporary file in the same directory (rename is atomic only within
 * one file system), which is fsynced before it is renamed over the target; the directory is fsynced
 * afterwards so the rename itself survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.<base>.<16 hex>.tmp`: hidden, and recognisable by removeStaleTemps. */
const TEMP_PATTERN = /^\..+\.[0-9a-f]{16}\.tmp$/;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** Atomically replaces (or creates) `path` with `data`; see the module comment. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: { mode?: number } = {}): Promise<void> {
  const temp = tempPathFor(path);
  try {
    // 'wx': never follow or reuse something already at the temp name.
    const handle = await open(temp, 'wx', opts.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

/**
 * fsync a directory so that a rename or unlink in it is durable. Some platforms and file systems
 * cannot fsync a directory (EINVAL on some network file systems, EISDIR/EPERM on Windows); the data
 * itself was synced already, so those are ignored.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e;
  } finally {
    await handle?.close();
  }
}

/**
 * Removes temp files writeFileAtomic left behind in `dir` (a crash between open and rename), when they
 * are older than `minAgeMs`: a younger one may belong to a write still in progress in another process
 * (the CLI opens the store while `exray serve` runs). Returns the names removed.
 */
export async function removeStaleTemps(dir: string, minAgeMs = 10 * 60_000): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  const now = Date.now();
  for (const name of names) {
    if (!TEMP_PATTERN.test(name)) continue;
    const p = join(dir, name);
    try {
      const s = await stat(p);
      if (!s.isFile() || now - s.mtimeMs < minAgeMs) continue;
      await unlink(p);
      removed.push(name);
    } catch {
      // Gone already or not removable: nothing to clean.
    }
  }
  return removed;
}
