/**
 * The exec (JSON array) form of RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK CMD, COPY, ADD and VOLUME,
 * after BuildKit's `parseJSON`: the text must start with `[` and be a JSON array; anything that is
 * not valid JSON falls back to the shell form, as Docker does (`RUN ['a']` is a shell command).
 * A valid array with a non-string element is an error, not a fallback.
 */
import { trimLeftSpace } from './chars.js';

/** The outcome of trying the JSON form. */
export type JsonArgs =
  | { kind: 'json'; values: string[] }
  | { kind: 'not-json' }
  | { kind: 'not-strings' };

/** Docker's message for `[…]` arrays with non-string elements. */
export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Tries to read `rest` as a JSON array of strings. */
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
  const values: string[] = [];
  for (const item of parsed as unknown[]) {
    if (typeof item !== 'string') return { kind: 'not-strings' };
    values.push(item);
  }
  return { kind: 'json', values };
}
