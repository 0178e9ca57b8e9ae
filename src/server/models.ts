/**
 * The models the server can run a reference for: the bundled samples in `models/`, found by the
 * sha256 a trace records (the same identity hash `exray trace` writes). A trace's model name is a
 * label only: it is never joined to a path.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { modelIdentityHash } from '../reference/trace-node.ts';
import type { ModelLocator } from './reference.ts';

export interface ModelIndex {
  locate: ModelLocator;
  /** sha256 → model directory. */
  readonly byHash: ReadonlyMap<string, string>;
}

export async function indexModels(roots: readonly string[]): Promise<ModelIndex> {
  const byHash = new Map<string, string>();
  for (const root of roots) {
    const names = await readdir(root).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const dir = join(root, name);
      if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
      try {
        byHash.set(await modelIdentityHash(dir), dir);
      } catch {
        // not a model folder (or not extracted yet): nothing to run a reference on
      }
    }
  }
  return { byHash, locate: (sha256) => byHash.get(sha256) ?? null };
}
