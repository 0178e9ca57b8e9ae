/** `--max-memory <bytes|MiB|GiB>` (the default is src/reference/memory.ts). */
import { InvalidArgumentError } from 'commander';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `1073741824`, `512MiB`, `1.5 GiB`, `2g` → bytes (binary units: MB means MiB here). */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError('expected bytes, or a size such as 512MiB or 2GiB');
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!(bytes >= 1)) throw new InvalidArgumentError('expected a positive size');
  return bytes;
}
