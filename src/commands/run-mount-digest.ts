/**
 * A RUN's `--mount`s as inputs of its layer cache key (issue 15, cache/step-key.ts): each mount's
 * finished spec, and for a bind the digest of what it shows (rootfs/tree-digest.ts: the context
 * filtered by `.dockerignore` as run-mounts.ts mounts it, or a `from=` stage's or image's path).
 * A cache mount's content and a tmpfs never count (BuildKit leaves cache mounts out of its keys
 * too); a secret counts by id, target, env name and mode, never by its value, which this module
 * never reads.
 */
import { posix } from 'node:path';
import { NO_FILTER } from '../context/path-filter.js';
import { lstat } from '../rootfs/host-fs.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { treeDigest } from '../rootfs/tree-digest.js';
import type { RunMountSpec } from './run-mount-spec.js';
import type { RunMountEnv } from './run-mounts.js';

/** What reading a bind's source needs. */
export type MountDigestEnv = Pick<RunMountEnv, 'contextDir' | 'contextIgnore' | 'fromSource'>;

/** One canonical line per mount, in order. */
export async function runMountsKey(specs: readonly RunMountSpec[], env: MountDigestEnv): Promise<string[]> {
  const lines: string[] = [];
  for (const s of specs) {
    if (s.type !== 'bind') {
      lines.push(JSON.stringify(s));
      continue;
    }
    const { from, ...spec } = s;
    lines.push(JSON.stringify({ ...spec, from: from?.value ?? null, content: await bindDigest(s, env) }));
  }
  return lines;
}

/** The digest of what a bind mount shows; `missing` when there is nothing (the RUN then fails). */
async function bindDigest(s: Extract<RunMountSpec, { type: 'bind' }>, env: MountDigestEnv): Promise<string> {
  const root = s.from === undefined ? new Rootfs(env.contextDir) : await env.fromSource(s.from);
  const ignore = s.from === undefined ? env.contextIgnore : NO_FILTER;
  // Symlinks in the source resolve inside its root, as run-mounts.ts resolves them.
  const source = await root.resolve(s.source, { followFinal: true });
  const rel = root.imagePathOf(source).slice(1);
  const st = await lstat(source).catch(() => undefined);
  if (st === undefined || (rel !== '' && ignore.verdict(rel, st.isDirectory()) === 'exclude')) return 'missing';
  const select = ignore.empty
    ? undefined
    : (r: string, isDir: boolean) => ignore.verdict(rel === '' ? r : posix.join(rel, r), isDir);
  return treeDigest(source, { ...(select ? { select } : {}) });
}
