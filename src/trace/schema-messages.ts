/**
 * Messages of the trace header validation: JSON paths as people write them, and a zod error map that
 * says what a field must be. Pure: no DOM, no Node.
 */
import type { z } from 'zod';


/** `nodes[12].outputs[0].shape[1]`, `environment.flags["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? 'the header' : out;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `${value}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a finite number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
  nan: 'NaN',
  tuple: 'an array',
  record: 'an object',
};

/** Messages for issues that the schema does not word itself. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.input === undefined && (iss.code === 'invalid_type' || iss.code === 'invalid_value' || iss.code === 'invalid_union')) {
    return 'is required';
  }
  switch (iss.code) {
    case 'invalid_type':
      return `must be ${EXPECTED[iss.expected] ?? iss.expected} (got ${describe(iss.input)})`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `must be ${quoteList(iss.values)} (got ${describe(iss.input)})`
        : `must be one of ${quoteList(iss.values)} (got ${describe(iss.input)})`;
    case 'too_small':
      if (iss.origin === 'array') return `must have at least ${iss.minimum} items`;
      if (iss.origin === 'string') return `must have at least ${iss.minimum} characters`;
      return `must be >= ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'array') return `must have at most ${iss.maximum} items`;
      if (iss.origin === 'string') return `must have at most ${iss.maximum} characters`;
      return `must be <= ${iss.maximum}`;
    default:
      return undefined;
  }
};
