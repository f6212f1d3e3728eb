/**
 * Docker's destination rules for COPY and ADD (Dockerfile reference, "COPY"): a relative `<dest>`
 * is relative to WORKDIR; a `<dest>` ending in `/` (or `.`, as BuildKit treats it) names a
 * directory, into which sources are copied by name; so does an existing directory; otherwise a
 * single file source becomes `<dest>` itself; a directory source always copies its contents
 * into `<dest>`; and "if multiple `<src>` resources are specified, either directly or due to
 * the use of a wildcard, then `<dest>` must be a directory, and it must end with a slash".
 * PURE.
 */
import { posix } from 'node:path';

/** A destination as written and as an absolute image path. */
export interface Destination {
  /** After variable expansion, as written. */
  raw: string;
  /** Absolute, normalised image path. */
  path: string;
  /** Whether the spelling itself says "directory" (trailing `/`, `.`, `..`, or empty). */
  spelledAsDir: boolean;
}

/** The destination `raw` (expanded) names under WORKDIR `workdir` (empty: `/`). */
export function destinationOf(raw: string, workdir: string): Destination {
  const path = posix.resolve(workdir || '/', raw);
  const spelledAsDir = raw === '' || /(^|\/)\.{0,2}$/.test(raw);
  return { raw, path, spelledAsDir };
}

/**
 * The error message when `count` sources (after wildcard expansion) cannot go to `dest`, or
 * undefined when they can. `kind` is COPY or ADD, as Docker words it.
 */
export function sourceCountError(kind: 'COPY' | 'ADD', count: number, dest: Destination): string | undefined {
  if (count <= 1 || dest.spelledAsDir) return undefined;
  return `When using ${kind} with more than one source file, the destination must be a directory and end with a /`;
}

/** Where a non-directory source named `name` lands: inside `dest` when it is a directory, else `dest` itself. */
export function fileTarget(dest: Destination, intoDir: boolean, name: string): string {
  return intoDir || dest.spelledAsDir ? posix.join(dest.path, name) : dest.path;
}
