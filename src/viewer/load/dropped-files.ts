/**
 * Files from a drop (folders too, via DataTransferItem.webkitGetAsEntry) or a file picker, each with
 * its path relative to what was dropped (`my-model/group1-shard1of2.bin`).
 */

export interface PickedFile {
  file: File;
  /** Relative path with `/` separators; the bare name for a file dropped on its own. */
  path: string;
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = (): void =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next(); // readEntries returns at most 100 entries per call
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: prefix + entry.name });
  } else if (entry.isDirectory) {
    for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/**
 * Must be called synchronously inside the drop handler: a DataTransfer's items are only readable
 * during the event. Returns a promise of every file, folders walked recursively.
 */
export function filesFromDataTransfer(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  const items = dt.items ? Array.from(dt.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (items.length === 0) loose.push(...Array.from(dt.files ?? []));
  return (async () => {
    const out: PickedFile[] = loose.map((file) => ({ file, path: file.name }));
    for (const e of entries) await walk(e, '', out);
    return out;
  })();
}

/** Files from an `<input type=file>` (with `webkitdirectory`, paths include the folder). */
export function filesFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

export type FileKind = 'trace' | 'image' | 'model';

const IMAGE = /\.(jpe?g|png|webp|gif|bmp|avif)$/i;

/** What a file most likely is, by name and type: `.exray` trace, photo, or part of a model. */
export function kindOf(f: PickedFile): FileKind {
  if (/\.exray$/i.test(f.path)) return 'trace';
  if (f.file.type.startsWith('image/') || IMAGE.test(f.path)) return 'image';
  return 'model';
}
