/**
 * The results view's chunk (RunResults.tsx: comparison, diagnosis and chart code), loaded apart from
 * the app shell: when the page is idle after its start-up (Results.tsx), or as soon as results are on
 * their way (state/opening.ts, at the start of an opening: the chunk loads while the files are read).
 */
import type { ReactNode } from 'react';

let loaded: (() => ReactNode) | null = null;
let loading: Promise<() => ReactNode> | null = null;

/** The results view if its chunk is here, else null. */
export function loadedResultsView(): (() => ReactNode) | null {
  return loaded;
}

/** Load the chunk once; a failed load may be tried again. */
export function loadResultsView(): Promise<() => ReactNode> {
  loading ??= import('./RunResults.tsx').then(
    (m) => (loaded = m.RunResults),
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}
