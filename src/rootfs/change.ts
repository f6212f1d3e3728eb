/**
 * The vocabulary shared by the code that changes a rootfs, the code that finds what changed
 * (`snapshot/`) and the code that turns changes into layers (`layers/`): one change to put in
 * a layer, and what a writer of the rootfs reports as it goes (ARCHITECTURE.md §5, §12).
 * PURE: types only.
 */
import type { FileFacts } from './file-facts.js';

/**
 * One change to put in a layer: a path written (with everything a layer needs of it), a path
 * deleted (a whiteout), or a directory whose lower contents all vanish (an opaque whiteout,
 * which implies the directory's own entry).
 */
export type Change =
  { kind: 'upsert'; path: string } | { kind: 'whiteout'; path: string } | { kind: 'opaque'; path: string };

/**
 * What layer extraction reports while it writes a rootfs, so that the first snapshot of a stage
 * starts from an index instead of a scan (`snapshot/live-index.ts` implements it). Paths are
 * canonical image paths (no symlinked parents).
 */
export interface ExtractionObserver {
  /** The path now has these facts (written, or its metadata or link count changed). */
  set(path: string, facts: FileFacts): void;
  /** The path and everything below it were removed (a whiteout, or a path replaced). */
  removeTree(path: string): void;
}

/**
 * Content identities of files ({@link contentIdentity}) by image path, valid while the file's
 * facts stay those it was recorded with: extraction and packing record what they hashed, so
 * that `--snapshot-mode=full` need not hash an unchanged file again (`snapshot/content-cache.ts`
 * implements it).
 */
export interface ContentIdentities {
  /** Records the identity of the file at `path`, whose facts are `facts` right now. */
  record(path: string, facts: FileFacts, identity: string): void;
  /** The identity recorded for `path` if its facts then were `facts`; undefined when unknown or stale. */
  lookup(path: string, facts: FileFacts): string | undefined;
}
