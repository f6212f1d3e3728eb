/**
 * The exec form of RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK CMD, and the JSON form of COPY, ADD and
 * VOLUME (Dockerfile reference, "Shell and exec form"): arguments that are a JSON array of strings.
 * Text that does not parse as a JSON array is the shell form, as in Docker — `RUN ['a']` (single
 * quotes are not JSON) runs `['a']` through the shell. A JSON array holding anything but strings
 * is an error rather than a fallback.
 */
import { trimLeftSpace } from './chars.js';

/** The outcome of reading arguments as a JSON array. */
export type JsonArgs = { kind: 'json'; values: string[] } | { kind: 'not-json' } | { kind: 'not-strings' };

/** Docker's message for an array with non-string elements. */
export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Reads `rest` (the arguments after the flags) as a JSON array of strings if it is one. */
export function parseJsonArgs(rest: string): JsonArgs {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return { kind: 'not-json' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'not-json' };
  }
  if (!Array.isArray(parsed)) return { kind: 'not-json' };
  const values = parsed.filter((item): item is string => typeof item === 'string');
  return values.length === parsed.length ? { kind: 'json', values } : { kind: 'not-strings' };
}
