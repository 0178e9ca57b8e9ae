/**
 * `--nodes <glob|/regex/>`: which nodes a capture exposes and records. Pure (page, worker, Node).
 *
 * A pattern written `/…/` or `/…/i` is a JavaScript regular expression tested against the node's name
 * (unanchored, as `grep` does); anything else is a glob over the whole name where `*` matches any run
 * of characters (`/` included: ONNX and TF.js names use `/` as a scope separator, and `*` across scopes
 * is what one means by `/stage1/*`) and `?` one character. Several patterns select a node when any
 * matches.
 */

export interface NodeSelection {
  /** Whether the node named `name` is captured. */
  test(name: string): boolean;
  /** The patterns as given, for messages and the trace header. */
  readonly text: string;
}

/** Raised for a pattern that is not a valid regular expression. */
export class NodePatternError extends RangeError {
  override name = 'NodePatternError';
}

function globToRegExp(glob: string): RegExp {
  let src = '^';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`${src}$`, 's');
}

// Only the `i` flag: a longer tail (`/enc/ms`) would make ordinary scoped names read as regexes.
const REGEX_FORM = /^\/(.+)\/(i?)$/s;

/** One pattern → a predicate. Throws NodePatternError for an invalid regular expression. */
export function patternToRegExp(pattern: string): RegExp {
  const m = REGEX_FORM.exec(pattern);
  if (!m) return globToRegExp(pattern);
  try {
    return new RegExp(m[1]!, m[2]!);
  } catch (e) {
    throw new NodePatternError(`--nodes ${pattern}: not a valid regular expression (${(e as Error).message})`);
  }
}

/** The selection several patterns make; undefined for none (every node). */
export function nodeSelection(patterns: readonly string[] | undefined): NodeSelection | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  const res = patterns.map(patternToRegExp);
  return { test: (name) => res.some((r) => r.test(name)), text: patterns.join(' ') };
}
