/**
 * Crash-safe file replacement (Node), shared by the CLI (traces, exports, variants) and the server
 * (session store, tokens, certificates). A reader of `path` sees either the previous content or the
 * new content, never a mix, and a failure part-way (disk full, file-size limit, crash) leaves the
 * previous file untouched: the bytes go to a temporary file in the same directory (rename is atomic
 * only within one file system), which is fsynced before it is renamed over the target; the directory
 * is fsynced afterwards so the rename itself survives a power cut.
 *
 * Interrupts: while a temp file exists it is registered; SIGINT, SIGTERM and SIGHUP remove every
 * registered temp file before the process dies of the signal (when nothing else in the process handles
 * that signal), and a process.exit() removes them too. Only a SIGKILL or a power cut can leave one,
 * which removeStaleTemps cleans later.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.<base>.<16 hex>.tmp`: hidden, and recognisable by removeStaleTemps. */
const TEMP_PATTERN = /^\..+\.[0-9a-f]{16}\.tmp$/;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

// ---- temp files being written, removed on an interrupt ---------------------------------------------

const liveTemps = new Set<string>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let exitHookInstalled = false;

/** Synchronously removes every temp file a write in progress has open (signal and exit paths). */
export function removeLiveTemps(): void {
  for (const t of liveTemps) {
    try {
      unlinkSync(t);
    } catch {
      // gone already (renamed, or removed by its writer)
    }
  }
  liveTemps.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // When something else listens (`exray serve` shuts down gracefully), it decides: writes in progress
  // may finish, and its process.exit() runs the exit hook, which removes what is left.
  if (process.listenerCount(signal) > 1) return;
  // Nobody else does: remove the temp files, then do what the signal would have done without us
  // (the process dies of it; a shell reports 128 + n).
  removeLiveTemps();
  uninstallSignalHandlers();
  process.kill(process.pid, signal);
}

const handlers = new Map<NodeJS.Signals, () => void>();

function installSignalHandlers(): void {
  if (!exitHookInstalled) {
    process.on('exit', removeLiveTemps);
    exitHookInstalled = true;
  }
  if (handlers.size > 0) return;
  for (const s of SIGNALS) {
    const h = (): void => onSignal(s);
    handlers.set(s, h);
    process.on(s, h);
  }
}

function uninstallSignalHandlers(): void {
  for (const [s, h] of handlers) process.removeListener(s, h);
  handlers.clear();
}

/** Registers a temp file for removal on an interrupt; the returned function unregisters it. */
export function registerTemp(path: string): () => void {
  liveTemps.add(path);
  installSignalHandlers();
  return () => {
    liveTemps.delete(path);
    // Signal handlers are in place only while a write is in progress, so that exray never changes
    // what an interrupt does the rest of the time.
    if (liveTemps.size === 0) uninstallSignalHandlers();
  };
}

/** How many temp files are being written now (tests). */
export function liveTempCount(): number {
  return liveTemps.size;
}

// ---- the writer ---------------------------------------------------------------------------------

export interface WriteAtomicOptions {
  /** Mode of a new file (default 0644; an existing file keeps its own mode). */
  mode?: number;
}

/**
 * Atomically replaces (or creates) `path` with `data`; see the module comment. A symbolic link at
 * `path` is followed (the file it names is replaced, the link stays), as editors and package managers
 * do. Errors are the file system's own (code ENOSPC, EACCES, …), after the temp file is removed.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: WriteAtomicOptions = {}): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const previous = await stat(target).catch(() => null);
  const mode = opts.mode ?? (previous?.isFile() ? previous.mode & 0o777 : 0o644);
  const temp = tempPathFor(target);
  const release = registerTemp(temp);
  try {
    // 'wx': never follow or reuse something already at the temp name.
    const handle = await open(temp, 'wx', mode);
    try {
      if (previous?.isFile() && opts.mode === undefined) await handle.chmod(mode); // not narrowed by the umask
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  } finally {
    release();
  }
  await fsyncDir(dirname(target));
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
