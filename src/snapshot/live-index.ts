/**
 * A file index kept while base layers are extracted, so that a stage's first snapshot does not
 * have to scan the freshly extracted rootfs again: extraction records the lstat facts of every
 * path it creates (an fstat of the descriptor it already holds, or one lstat) and every subtree
 * it removes (whiteouts, replaced paths). Removals are applied lazily by sequence number, so a
 * thousand whiteouts cost one pass over the index, not a thousand.
 *
 * A fact recorded too early (a ctime that a later hardlink or xattr moved) can only make a path
 * look changed and be compared or captured again — never hide a change.
 */
import { parentPath } from '../rootfs/image-path.js';
import type { FileFacts, FileIndex } from './file-index.js';

interface Entry {
  facts: FileFacts;
  seq: number;
}

/** Facts of extracted paths, by canonical image path. */
export class LiveIndex {
  private readonly entries = new Map<string, Entry>();
  /** Image path → sequence number of the last removal of that subtree. */
  private readonly removed = new Map<string, number>();
  /** Names of hardlinked inodes: a new link changes the link count and ctime of every name. */
  private readonly names = new Map<number, string[]>();
  private seq = 0;

  /** The path now has these facts. */
  set(path: string, facts: FileFacts): void {
    this.entries.set(path, { facts, seq: ++this.seq });
    if (facts.nlink < 2 || facts.type === 'dir') return;
    const names = this.names.get(facts.ino) ?? [];
    for (const other of names) {
      const e = this.entries.get(other);
      // Same inode still: the other name shares these facts (its sequence number stays).
      if (other !== path && e?.facts.ino === facts.ino) this.entries.set(other, { facts, seq: e.seq });
    }
    if (!names.includes(path)) names.push(path);
    this.names.set(facts.ino, names);
  }

  /** The path and everything below it were removed. */
  removeTree(path: string): void {
    if (path === '/') {
      this.entries.clear();
      this.removed.clear();
      return;
    }
    this.removed.set(path, ++this.seq);
  }

  /** The index as extraction left the rootfs (entries set after their last removal only); empties this one. */
  take(): FileIndex {
    const index: FileIndex = new Map();
    for (const [path, e] of this.entries) {
      if (!this.removedSince(path, e.seq)) index.set(path, e.facts);
    }
    this.entries.clear();
    this.removed.clear();
    this.names.clear();
    return index;
  }

  private removedSince(path: string, seq: number): boolean {
    if (this.removed.size === 0) return false;
    for (let p = path; ; p = parentPath(p)) {
      const at = this.removed.get(p);
      if (at !== undefined && at > seq) return true;
      if (p === '/') return false;
    }
  }
}
