/**
 * Extended attributes through the Debian `attr` package's `setfattr` and `getfattr` (Node has
 * no xattr API; a native addon would need a compiler at install time). Both work in batches —
 * one process per layer to set, one per thousand-odd files to read — and never follow a final
 * symlink (`-h`). File names travel in getfattr's dump format, where `\ooo` escapes newlines and
 * backslashes; everything else is raw bytes. Host paths are strings with names as bytes
 * (`oci/file-names.ts`): a path that is not UTF-8 cannot be a program argument (Node encodes
 * arguments as UTF-8), so such a file is read through a descriptor handed to getfattr.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { bytesOfName, hasRawBytes, nameFromBytes } from '../oci/file-names.js';
import { runTool } from './run-tool.js';

/** Attributes of one host path (structurally `layers/tools.ts` XattrItem). */
export interface XattrItem {
  host: string;
  xattrs: ReadonlyMap<string, Buffer>;
}

/** Paths per getfattr call are limited by bytes of arguments, well under Linux's ARG_MAX. */
const ARG_BYTES = 256 * 1024;

/** getfattr's quoting of a name: `\ooo` for backslash, control characters and DEL. */
function escapeName(name: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const b of name) {
    parts.push(
      b === 0x5c || b < 0x20 || b === 0x7f
        ? Buffer.from(`\\${b.toString(8).padStart(3, '0')}`, 'latin1')
        : Buffer.from([b]),
    );
  }
  return Buffer.concat(parts);
}

function unescapeName(quoted: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    const b = quoted[i] ?? 0;
    const oct = quoted.toString('latin1', i + 1, i + 4);
    if (b === 0x5c && /^[0-7]{3}$/.test(oct)) {
      out.push(parseInt(oct, 8));
      i += 3;
    } else out.push(b);
  }
  return Buffer.from(out);
}

/** Parses `getfattr -e hex` output into values of one attribute by host path. */
export function parseGetfattr(output: Buffer, attribute: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  let file: string | undefined;
  let start = 0;
  while (start < output.length) {
    let end = output.indexOf(0x0a, start);
    if (end < 0) end = output.length;
    const line = output.subarray(start, end);
    start = end + 1;
    if (line.subarray(0, 8).toString('latin1') === '# file: ') file = nameFromBytes(unescapeName(line.subarray(8)));
    else {
      const text = line.toString('latin1');
      const prefix = `${attribute}=0x`;
      if (file !== undefined && text.startsWith(prefix)) found.set(file, Buffer.from(text.slice(prefix.length), 'hex'));
    }
  }
  return found;
}

/** Host paths in batches whose arguments stay within {@link ARG_BYTES}. */
function batches(hosts: string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const h of hosts) {
    const size = Buffer.byteLength(h) + 1;
    if (current.length > 0 && bytes + size > ARG_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(h);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** How a tool names the file behind its descriptor 3: a magic link that getxattr(2) follows to that very inode. */
const FD_PATH = '/proc/self/fd/3';

/**
 * The capability of a regular file whose path cannot be an argument: opened here (never following
 * a symlink, never blocking), read by the tool through {@link FD_PATH}. A path gone meanwhile has none.
 */
async function capabilityThroughFd(
  host: string,
  get: (fd: number) => Promise<Map<string, Buffer>>,
): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = openSync(bytesOfName(host), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return (await get(fd)).get(FD_PATH);
  } finally {
    closeSync(fd);
  }
}

/** An XattrTool (see `layers/tools.ts`) on `setfattr`/`getfattr` at the given paths. */
export function attrTool(
  setfattr: string,
  getfattr: string,
): {
  set(items: XattrItem[], signal?: AbortSignal): Promise<string[]>;
  capabilities(hosts: string[], signal?: AbortSignal): Promise<Map<string, Buffer>>;
} {
  return {
    async set(items, signal) {
      if (items.length === 0) return [];
      const dump: Buffer[] = [];
      for (const item of items) {
        dump.push(Buffer.from('# file: '), escapeName(bytesOfName(item.host)), Buffer.from('\n'));
        for (const [name, value] of item.xattrs)
          dump.push(Buffer.from(`${name}=0x${value.toString('hex')}\n`, 'latin1'));
        dump.push(Buffer.from('\n'));
      }
      const r = await runTool(setfattr, ['-h', '--restore=-'], { input: Buffer.concat(dump), signal });
      if (r.code === 0) return [];
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      return lines.length > 0 ? lines : [`setfattr exited with status ${String(r.code)}`];
    },
    async capabilities(hosts, signal) {
      const found = new Map<string, Buffer>();
      const get = async (paths: string[], fd?: number): Promise<Map<string, Buffer>> => {
        // Exit status 1 only says that some files have no such attribute.
        const r = await runTool(
          getfattr,
          [
            ...(fd === undefined ? ['-h'] : []),
            '--absolute-names',
            '-n',
            'security.capability',
            '-e',
            'hex',
            '--',
            ...paths,
          ],
          { signal, fd },
        );
        if (r.code !== 0 && r.code !== 1)
          throw new Error(`getfattr failed (status ${String(r.code)}): ${r.stderr.trim()}`);
        return parseGetfattr(r.stdout, 'security.capability');
      };
      for (const batch of batches(hosts.filter((h) => !hasRawBytes(h)))) {
        for (const [host, value] of await get(batch)) found.set(host, value);
      }
      for (const host of hosts.filter(hasRawBytes)) {
        const value = await capabilityThroughFd(host, (fd) => get([FD_PATH], fd));
        if (value) found.set(host, value);
      }
      return found;
    },
  };
}
