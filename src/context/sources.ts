/**
 * COPY sources in a local build context: paths relative to the context root, with `*`, `?` and
 * `[…]` wildcards (Go filepath.Match rules, per path component), never reaching outside the
 * context (Docker: "The <src> path must be inside the build context").
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import { componentPattern, hasWildcard } from '../dockerfile/source-pattern.js';

/** A matched source: its host path and its path relative to the context root. */
export interface ContextSource {
  hostPath: string;
  relPath: string;
}

/** Thrown when a source does not exist or leaves the context; the caller adds the Dockerfile location. */
export class SourceNotFound extends Error {}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw fsError(`reading ${p} in the build context`, err);
  }
}

/** Resolves one COPY source (already variable-expanded) to the context paths it names. */
export async function matchSources(contextDir: string, source: string): Promise<ContextSource[]> {
  const root = await realpath(contextDir);
  const parts = source.split('/').filter((p) => p !== '' && p !== '.');
  let candidates = [''];
  for (const part of parts) {
    const next: string[] = [];
    for (const rel of candidates) {
      if (part === '..') {
        next.push(join(rel, '..'));
      } else if (hasWildcard(part)) {
        const re = componentPattern(part);
        let names: string[] = [];
        try {
          names = (await readdir(join(root, rel))).sort();
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw fsError(`listing ${join(root, rel)}`, err);
        }
        for (const n of names) if (re.test(n)) next.push(join(rel, n));
      } else {
        next.push(join(rel, part));
      }
    }
    candidates = next;
  }
  const out: ContextSource[] = [];
  for (const rel of candidates) {
    const hostPath = join(root, rel);
    if (!inside(root, hostPath)) throw new SourceNotFound(`${source}: outside the build context`);
    if (!(await exists(hostPath))) continue;
    // A top-level symlink is followed (Docker), but its target must stay in the context too.
    const real = await realpath(hostPath).catch(() => hostPath);
    if (!inside(root, real)) throw new SourceNotFound(`${source}: points outside the build context`);
    out.push({ hostPath: real, relPath: rel });
  }
  if (out.length === 0) {
    throw new SourceNotFound(hasWildcard(source) ? `no source files were specified by "${source}"` : `"${source}": not found in the build context`);
  }
  return out;
}
