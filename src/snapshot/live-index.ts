/**
 * A file index kept while base layers are extracted, so that a stage's first snapshot does not
 * have to scan the freshly extracted rootfs again: extraction records the lstat facts of every
 * path it creates (an fstat of the descriptor it already holds, or one lstat) and every subtree
 * it removes (whiteouts, replaced paths). Removals are applied lazily by sequence number, so a
 * thousand whiteouts cost one pass over the index, not a thousand.
 *
 * The facts are held in typed-array columns, one slot per path, rather than one object per
 * path: about 120 bytes a path instead of 320 while a layer of hundreds of thousands of entries
 * is extracted (issue 11, finding 8). {@link LiveIndex.take} turns them into the FileIndex the
 * snapshotter keeps.
 *
 * A fact recorded too early (a ctime that a later hardlink or xattr moved) can only make a path
 * look changed and be compared or captured again — never hide a change.
 */
import { parentPath } from '../rootfs/image-path.js';
import type { ExtractionObserver } from '../rootfs/change.js';
import type { FileFacts } from '../rootfs/file-facts.js';
import type { FileIndex } from './file-index.js';

const TYPES: readonly FileFacts['type'][] = ['file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket'];
const TYPE_CODE = new Map(TYPES.map((t, i) => [t, i]));
/** Columns of the number and integer arrays, per slot. */
const NUMS = 4; // size, mtimeMs, ctimeMs, ino: doubles (sizes and inode numbers pass 2^32)
const INTS = 5; // type << 12 | mode, uid, gid, nlink, seq: 32-bit unsigned

/** Facts of extracted paths, by canonical image path. */
export class LiveIndex implements ExtractionObserver {
  private readonly slots = new Map<string, number>();
  private nums = new Float64Array(1024 * NUMS);
  private ints = new Uint32Array(1024 * INTS);
  /** Facts few paths have: device numbers and symlink targets, by slot. */
  private readonly extra = new Map<number, { rdev?: number; linkTarget?: string }>();
  /** Image path → sequence number of the last removal of that subtree. */
  private readonly removed = new Map<string, number>();
  /** Names of hardlinked inodes: a new link changes the link count and ctime of every name. */
  private readonly names = new Map<number, string[]>();
  private seq = 0;

  /** The path now has these facts. */
  set(path: string, facts: FileFacts): void {
    this.write(this.slotOf(path), facts, ++this.seq);
    if (facts.nlink < 2 || facts.type === 'dir') return;
    const names = this.names.get(facts.ino) ?? [];
    for (const other of names) {
      const slot = this.slots.get(other);
      // Same inode still: the other name shares these facts (its sequence number stays).
      if (other !== path && slot !== undefined && this.nums[slot * NUMS + 3] === facts.ino)
        this.write(slot, facts, this.ints[slot * INTS + 4] ?? 0);
    }
    if (!names.includes(path)) names.push(path);
    this.names.set(facts.ino, names);
  }

  /** The path and everything below it were removed. */
  removeTree(path: string): void {
    if (path === '/') {
      this.clear();
      return;
    }
    this.removed.set(path, ++this.seq);
  }

  /** The index as extraction left the rootfs (entries set after their last removal only); empties this one. */
  take(): FileIndex {
    const index: FileIndex = new Map();
    for (const [path, slot] of this.slots) {
      if (!this.removedSince(path, this.ints[slot * INTS + 4] ?? 0)) index.set(path, this.read(slot));
    }
    this.clear();
    this.names.clear();
    return index;
  }

  /**
   * Every path written or removed since the last take, for a rootfs whose snapshotter is already
   * seeded (a cached layer extracted between steps: executor/stage-layers.ts `extracted`); empties this one.
   */
  takePaths(): string[] {
    const paths = [...new Set([...this.slots.keys(), ...this.removed.keys()])];
    this.clear();
    this.names.clear();
    return paths;
  }

  private clear(): void {
    this.slots.clear();
    this.extra.clear();
    this.removed.clear();
    this.nums = new Float64Array(1024 * NUMS);
    this.ints = new Uint32Array(1024 * INTS);
  }

  private slotOf(path: string): number {
    let slot = this.slots.get(path);
    if (slot !== undefined) return slot;
    slot = this.slots.size;
    this.slots.set(path, slot);
    if ((slot + 1) * INTS > this.ints.length) {
      const nums = new Float64Array(this.nums.length * 2);
      nums.set(this.nums);
      this.nums = nums;
      const ints = new Uint32Array(this.ints.length * 2);
      ints.set(this.ints);
      this.ints = ints;
    }
    return slot;
  }

  private write(slot: number, f: FileFacts, seq: number): void {
    const n = slot * NUMS;
    this.nums[n] = f.size;
    this.nums[n + 1] = f.mtimeMs;
    this.nums[n + 2] = f.ctimeMs;
    this.nums[n + 3] = f.ino;
    const i = slot * INTS;
    this.ints[i] = ((TYPE_CODE.get(f.type) ?? 0) << 12) | (f.mode & 0o7777);
    this.ints[i + 1] = f.uid;
    this.ints[i + 2] = f.gid;
    this.ints[i + 3] = f.nlink;
    this.ints[i + 4] = seq;
    if (f.rdev !== undefined || f.linkTarget !== undefined) {
      this.extra.set(slot, {
        ...(f.rdev !== undefined ? { rdev: f.rdev } : {}),
        ...(f.linkTarget !== undefined ? { linkTarget: f.linkTarget } : {}),
      });
    } else {
      this.extra.delete(slot);
    }
  }

  /** The facts in `slot`, shaped as `factsOf` shapes them. */
  private read(slot: number): FileFacts {
    const n = slot * NUMS;
    const i = slot * INTS;
    const packed = this.ints[i] ?? 0;
    const facts: FileFacts = {
      type: TYPES[packed >>> 12] ?? 'file',
      mode: packed & 0o7777,
      uid: this.ints[i + 1] ?? 0,
      gid: this.ints[i + 2] ?? 0,
      size: this.nums[n] ?? 0,
      mtimeMs: this.nums[n + 1] ?? 0,
      ctimeMs: this.nums[n + 2] ?? 0,
      ino: this.nums[n + 3] ?? 0,
      nlink: this.ints[i + 3] ?? 0,
    };
    const extra = this.extra.get(slot);
    if (extra?.rdev !== undefined) facts.rdev = extra.rdev;
    if (extra?.linkTarget !== undefined) facts.linkTarget = extra.linkTarget;
    return facts;
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
