/**
 * Content identities of files as they were last seen whole, for `--snapshot-mode=full`. That
 * mode (Kaniko's default) ignores changes that leave a file's content, mode and owner as they
 * were: a `touch`, a package manager rewriting a file with the same bytes. Hashing every file
 * at every step (Kaniko's way) costs time proportional to the bytes of the rootfs; Kiln hashes
 * only candidates — files whose lstat facts moved but whose type, mode, owner and size did not
 * — and compares with the identity recorded when the file was extracted, packed or hashed
 * before. A record counts only while the file's facts are still those it was recorded with.
 */
import type { ContentIdentities } from '../rootfs/change.js';
import type { FileFacts } from '../rootfs/file-facts.js';

interface Entry {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  identity: string;
}

/** Identities of files by image path, valid while their facts stay the same. */
export class ContentCache implements ContentIdentities {
  private readonly entries = new Map<string, Entry>();

  /** Records the identity of the file at `path`, whose facts are `facts` right now. */
  record(path: string, facts: FileFacts, identity: string): void {
    this.entries.set(path, {
      ino: facts.ino,
      size: facts.size,
      mtimeMs: facts.mtimeMs,
      ctimeMs: facts.ctimeMs,
      identity,
    });
  }

  /** The identity recorded for `path` if its facts then were `facts`; undefined when unknown or stale. */
  lookup(path: string, facts: FileFacts): string | undefined {
    const e = this.entries.get(path);
    if (
      !e ||
      e.ino !== facts.ino ||
      e.size !== facts.size ||
      e.mtimeMs !== facts.mtimeMs ||
      e.ctimeMs !== facts.ctimeMs
    )
      return undefined;
    return e.identity;
  }

  /** How many identities are recorded (for logs and tests). */
  get size(): number {
    return this.entries.size;
  }
}
