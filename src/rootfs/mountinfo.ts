/**
 * Parsing of `/proc/self/mountinfo` (proc(5)): one line per mount,
 *   `ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS`,
 * with space, tab, newline and backslash in paths written as octal escapes (`\040`). PURE.
 */

/** One mount of the mount namespace. */
export interface MountEntry {
  /** The directory of the mounted filesystem that appears at the mount point (`/` unless a bind of a subtree). */
  root: string;
  /** Where it is mounted, absolute. */
  mountPoint: string;
  fstype: string;
  source: string;
  superOptions: string;
}

/** Undoes the kernel's octal escapes (`\040` is a space). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses mountinfo text; lines that do not have the documented shape are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-', 6);
    const root = fields[3];
    const mountPoint = fields[4];
    const fstype = fields[dash + 1];
    if (
      dash < 0 ||
      root === undefined ||
      mountPoint === undefined ||
      fstype === undefined ||
      !mountPoint.startsWith('/')
    )
      continue;
    out.push({
      root: unescape(root),
      mountPoint: unescape(mountPoint),
      fstype,
      source: unescape(fields[dash + 2] ?? ''),
      superOptions: fields[dash + 3] ?? '',
    });
  }
  return out;
}

/** The mount that `/` shows: the last one listed at `/` (a later mount there covers an earlier one). */
export function rootMount(mounts: readonly MountEntry[]): MountEntry | undefined {
  return mounts.filter((m) => m.mountPoint === '/').at(-1);
}
