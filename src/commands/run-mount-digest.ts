/**
 * A RUN's `--mount`s as inputs of its layer cache key (issue 15, cache/step-key.ts): each mount's
 * finished spec, and for a bind the digest of what it shows (rootfs/tree-digest.ts: the context
 * filtered by `.dockerignore` as run-mounts.ts mounts it, or a `from=` stage's or image's path).
 * The source is found as the RUN's mount finds it (run-mounts.ts `bindSource`).
 * A cache mount's content and a tmpfs never count (BuildKit leaves cache mounts out of its keys
 * too); a secret counts by id, target, env name and mode, never by its value, which this module
 * never reads.
 */
import { posix } from 'node:path';
import { treeDigest } from '../rootfs/tree-digest.js';
import type { RunMountSpec } from './run-mount-spec.js';
import { bindSource } from './bind-source.js';
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
  const found = await bindSource(s, env);
  if (found.kind === 'missing' || found.kind === 'other') return found.kind;
  const { source, rel, ignore } = found;
  const select = ignore.empty
    ? undefined
    : (r: string, isDir: boolean) => ignore.verdict(rel === '' ? r : posix.join(rel, r), isDir);
  return treeDigest(source, { ...(select ? { select } : {}) });
}
