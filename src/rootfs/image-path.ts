/**
 * Pure helpers for image paths (absolute POSIX paths inside an image, e.g. `/etc/passwd`) and
 * tar entry names. No filesystem access: mapping to host paths is {@link Rootfs.resolve}'s job.
 * Names hold bytes that are not UTF-8 as escapes (`oci/file-names.ts`); orders compare the bytes.
 */
import { bytesOfName } from '../oci/file-names.js';

/**
 * Orders image paths the way a depth-first walk visits them: component by component, each
 * compared by bytes (UTF-8). So `/a` < `/a/z` < `/a-b`, and a parent always precedes its
 * children, which tar extraction needs (ARCHITECTURE.md §5: "entries sorted").
 */
export function comparePaths(a: string, b: string): number {
  // '/' sorts before every other byte when compared component-wise; reading it as NUL (which
  // no path contains) turns a component-wise comparison into a plain byte comparison. Below
  // U+D800, UTF-16 code units order like UTF-8 bytes, so most paths compare without encoding
  // (escaped bytes, U+DC80–U+DCFF, take the byte comparison).
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 || y >= 0xd800)
      return Buffer.compare(bytesOfName(a.replaceAll('/', '\0')), bytesOfName(b.replaceAll('/', '\0')));
    if (x === 0x2f) x = 0;
    if (y === 0x2f) y = 0;
    return x - y;
  }
  return a.length - b.length;
}

/** Orders names (single components) by their bytes, as `ls` under LC_ALL=C does. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(bytesOfName(a), bytesOfName(b));
}

/** The parent of an absolute image path; `/` for top-level paths and for `/` itself. */
export function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** The last component of an image path. */
export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** `dir` + `/` + `name` without doubling the slash at the root. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Whether `p` is `dir` or lies below it (both absolute, normalised). */
export function isWithin(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

/**
 * Lexically normalises a tar entry name (or hardlink name) into an absolute image path:
 * leading `/` and `./` are dropped, `.` and empty components vanish, `..` pops a component.
 * Returns undefined when a `..` would climb above the root: such names are an attack or a
 * broken archive (moby pkg/archive returns a "breakout" error for them), never a path.
 */
export function imagePathOfEntryName(name: string): string | undefined {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return `/${out.join('/')}`;
}
