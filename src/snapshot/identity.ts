/**
 * Content identities of `--snapshot-mode=full` candidates (see content-cache.ts): a file whose
 * timestamps or inode moved counts as unchanged only if its bytes and file capability are those
 * recorded for it before. Files with no recorded identity are not hashed at all: they count as
 * changed, which is always safe.
 */
import { createReadStream } from '../rootfs/host-fs.js';
import { fsError } from '../errors.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { contentHasher, contentIdentity } from '../rootfs/file-facts.js';
import type { ContentCache } from './content-cache.js';
import type { FileIndex } from './file-index.js';

/** Reads the `security.capability` attribute of host paths (an XattrTool's `capabilities`). */
export type CapabilityReader = (hosts: string[]) => Promise<Map<string, Buffer>>;

/** The candidates whose identity is what it was; their new facts are recorded with it. */
export async function unchangedCandidates(
  paths: string[],
  before: FileIndex,
  after: FileIndex,
  io: { rootfs: Rootfs; cache: ContentCache; capabilities?: CapabilityReader },
): Promise<Set<string>> {
  const known: { path: string; host: string; was: string }[] = [];
  for (const path of paths) {
    const facts = before.get(path);
    const was = facts && io.cache.lookup(path, facts);
    if (was !== undefined) known.push({ path, host: await io.rootfs.resolve(path), was });
  }
  const caps =
    io.capabilities && known.length > 0 ? await io.capabilities(known.map((k) => k.host)) : new Map<string, Buffer>();
  const same = new Set<string>();
  for (const k of known) {
    const hash = contentHasher();
    try {
      for await (const chunk of createReadStream(k.host)) hash.update(chunk as Buffer);
    } catch (err) {
      throw fsError(`hashing ${k.path}`, err);
    }
    const now = contentIdentity(hash, caps.get(k.host));
    const facts = after.get(k.path);
    if (facts) io.cache.record(k.path, facts, now);
    if (now === k.was) same.add(k.path);
  }
  return same;
}
