/**
 * User assertions on the page: a few lines of JavaScript in the shape the CLI loads
 * (`export default defineAssertion({ id, description, check })`, docs/diagnose.md), kept in
 * localStorage for the session and run with the built-ins over every finished run.
 *
 * The text is loaded as an ES module from a Blob URL, with `defineAssertion`, `tensorValues` and
 * `specValueRange` in scope (import lines are dropped: the page has no module paths to resolve). It
 * runs with the page's own rights: it is the user's own code, on the user's own page. JavaScript only
 * (no TypeScript syntax). A syntax or load error, or a module that exports no assertion, becomes one
 * failed assertion carrying the message; an exception in `check` fails that assertion (runAssertions).
 */
import { defineAssertion, isAssertion, specValueRange, tensorValues, type Assertion } from '../../diagnose/index.ts';
import { setState } from './store.ts';

export const USER_ASSERTIONS_KEY = 'exray.userAssertions';

export const EXAMPLE_ASSERTION = `export default defineAssertion({
  id: 'confident',
  description: 'the top class has probability >= 0.5',
  check: (trace) => {
    const p = trace.blobs.get(trace.header.outputs[0].blob.id);
    const top = Math.max(...p);
    return { ok: top >= 0.5, detail: 'top probability ' + top.toFixed(3) };
  },
});
`;

export interface UserAssertions {
  /** The text as the user wrote it ('' = none). */
  source: string;
  /** The assertions it defines; a load error is one assertion that fails with the message. */
  assertions: Assertion[];
  /** The load error, if any. */
  error: string | null;
  /** Bumped on every (re)load: caches of assertion results key on it. */
  rev: number;
  busy: boolean;
}

let current: UserAssertions = { source: '', assertions: [], error: null, rev: 0, busy: false };

export function userAssertions(): UserAssertions {
  return current;
}

/** An assertion standing for a text that could not be loaded: it fails with the reason. */
function loadFailure(message: string): Assertion {
  return {
    id: 'user-assertions',
    description: 'your assertions could not be loaded',
    check: () => {
      throw new Error(message);
    },
  };
}

/** `import …` lines are dropped (replaced by empty lines, so line numbers stay). */
function withoutImports(source: string): string {
  return source.replace(/^\s*import\s[^;\n]*(?:;|$)/gm, '');
}

const API = { defineAssertion, tensorValues, specValueRange };

/** Load the assertions a module text defines (default export and named exports, lists included). */
export async function compileAssertions(source: string): Promise<{ assertions: Assertion[]; error: string | null }> {
  if (source.trim() === '') return { assertions: [], error: null };
  (globalThis as { __exrayAssertionApi?: typeof API }).__exrayAssertionApi = API;
  // The prelude shares the first line, so error positions match the user's lines.
  const text = `const { defineAssertion, tensorValues, specValueRange } = globalThis.__exrayAssertionApi; ${withoutImports(source)}`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
  try {
    const mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
    const found: Assertion[] = [];
    for (const v of Object.values(mod)) {
      for (const x of Array.isArray(v) ? v : [v]) if (isAssertion(x) && !found.includes(x)) found.push(x);
    }
    if (found.length === 0) {
      const error = 'exports no assertion (export default defineAssertion({ id, description, check }))';
      return { assertions: [loadFailure(error)], error };
    }
    return { assertions: found, error: null };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { assertions: [loadFailure(error)], error };
  } finally {
    URL.revokeObjectURL(url);
  }
}

function save(source: string): void {
  try {
    if (source.trim() === '') localStorage.removeItem(USER_ASSERTIONS_KEY);
    else localStorage.setItem(USER_ASSERTIONS_KEY, source);
  } catch {
    // Storage may be unavailable (private mode): the assertions still apply to this page.
  }
}

let seq = 0;

/** Set (and keep) the user's assertion text; results everywhere are recomputed. */
export async function setUserAssertions(source: string, persist = true): Promise<void> {
  const mine = ++seq;
  if (persist) save(source);
  current = { ...current, source, busy: true };
  setState({});
  const r = await compileAssertions(source);
  if (mine !== seq) return;
  current = { source, assertions: r.assertions, error: r.error, rev: current.rev + 1, busy: false };
  setState({});
}

/** The text kept from an earlier visit (read once at start-up). */
export function restoreUserAssertions(): void {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(USER_ASSERTIONS_KEY);
  } catch {
    saved = null;
  }
  if (saved) void setUserAssertions(saved, false);
}

// Once per page, when the module first loads (not tied to any component: StrictMode-safe).
if (typeof localStorage !== 'undefined') restoreUserAssertions();
