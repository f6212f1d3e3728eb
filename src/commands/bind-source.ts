/**
 * Where a `RUN --mount=type=bind` finds its source (run-mounts.ts mounts it, run-mount-digest.ts
 * hashes it for the layer cache): the same lookup for both, so the key covers what is mounted.
 */
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { errnoCode, fsError } from '../errors.js';
import { NO_FILTER, type PathFilter } from '../context/path-filter.js';
import { Rootfs } from '../rootfs/rootfs.js';
import type { RunMountSpec } from './run-mount-spec.js';
import type { RunMountEnv } from './run-mounts.js';

/** A bind mount's source: where it is on the host, its path in its root, and the filter of its view. */
export type BindSource =
  { kind: 'missing' } | { kind: 'other' } | { kind: 'dir' | 'file'; source: string; rel: string; ignore: PathFilter };

/**
 * Finds a bind mount's source: in the context (through its `.dockerignore`: an ignored source is
 * missing, as named or where its symlinks lead, as for COPY) or in the `from=` stage or image.
 * Symlinks resolve inside the source's root, as BuildKit resolves them in the source's snapshot.
 */
export async function bindSource(
  s: Extract<RunMountSpec, { type: 'bind' }>,
  env: Pick<RunMountEnv, 'contextDir' | 'contextIgnore' | 'fromSource'>,
): Promise<BindSource> {
  const from = s.from === undefined ? new Rootfs(env.contextDir) : await env.fromSource(s.from);
  const source = await from.resolve(s.source, { followFinal: true });
  const kind = await kindOf(source);
  const ignore = s.from === undefined ? env.contextIgnore : NO_FILTER;
  const rels = [posix.resolve('/', s.source), from.imagePathOf(source)].map((p) => p.slice(1));
  if (kind === 'missing' || rels.some((rel) => rel !== '' && ignore.verdict(rel, kind === 'dir') === 'exclude'))
    return { kind: 'missing' };
  if (kind === 'other') return { kind: 'other' };
  return { kind, source, rel: rels[1] ?? '', ignore };
}

async function kindOf(host: string): Promise<'dir' | 'file' | 'other' | 'missing'> {
  try {
    const st = await lstat(host);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return 'missing';
    throw fsError(`inspecting ${host}`, err);
  }
}
