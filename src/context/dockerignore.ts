/**
 * `.dockerignore` (Dockerfile reference, ".dockerignore file"): which paths of the build context
 * COPY and ADD cannot see. The file is read as the Docker CLI reads it (moby/patternmatcher
 * `ignorefile.ReadAll`): one pattern per line, `#` comment lines, surrounding whitespace trimmed,
 * each pattern cleaned and made relative to the context root (a leading `/` dropped), `!` for
 * exceptions. A `<Dockerfile name>.dockerignore` beside the Dockerfile takes precedence over
 * `.dockerignore` in the context root. The executor itself still reads the Dockerfile whatever
 * the patterns say; only COPY and ADD sources from the context are filtered.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, fsError, UsageError } from '../errors.js';
import { PathFilter } from './path-filter.js';
import { cleanPath, PatternSyntaxError } from './pattern.js';

/** The patterns in force for a build context and where they came from. */
export interface Dockerignore {
  /** Host path of the file read; undefined when the context has none. */
  file?: string;
  patterns: string[];
}

/** Docker's ignore-file syntax to a pattern list (comments and blank lines dropped, patterns cleaned). */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const rawLine of lines) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    // A comment is a line whose very first character is `#`, before any trimming.
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fsError(`reading ${path}`, err);
  }
}

/**
 * The ignore patterns of a build: `<dockerfile>.dockerignore` next to the Dockerfile if it
 * exists (BuildKit's per-Dockerfile ignore file), else `<context>/.dockerignore`, else none.
 */
export async function readDockerignore(contextDir: string, dockerfilePath: string): Promise<Dockerignore> {
  const candidates = [
    join(dirname(dockerfilePath), `${basename(dockerfilePath)}.dockerignore`),
    join(contextDir, '.dockerignore'),
  ];
  for (const file of candidates) {
    const text = await readIfPresent(file);
    if (text !== undefined) return { file, patterns: parseDockerignore(text) };
  }
  return { patterns: [] };
}

/**
 * The patterns compiled into a filter on paths relative to the context root. A malformed pattern
 * fails the build before it starts, as the Docker CLI refuses such a file; the error names it.
 */
export function dockerignoreFilter(ignore: Dockerignore): PathFilter {
  try {
    return new PathFilter(ignore.patterns);
  } catch (err) {
    if (err instanceof PatternSyntaxError)
      throw new UsageError(`${ignore.file ?? '.dockerignore'}: ${err.message}`, { cause: err });
    throw err;
  }
}
