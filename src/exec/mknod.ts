/**
 * mknod(2) for layer extraction through coreutils `mknod` (Node has no binding for it): fifos
 * always, character and block devices where the process may (CAP_MKNOD, not in a user
 * namespace). Where the kernel says EPERM, the caller skips the entry with a warning, as Docker
 * does when running rootless (moby pkg/archive `createTarFile`).
 *
 * Host paths are strings with names as bytes (`oci/file-names.ts`). A path that is not UTF-8
 * cannot be a program argument (Node encodes arguments as UTF-8): the node is then made under a
 * temporary name in the same directory, reached through a descriptor handed to the program, and
 * renamed into place here.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { bytesOfName, hasRawBytes } from '../oci/file-names.js';

const TYPE = { fifo: 'p', char: 'c', block: 'b' } as const;

type Made = void | 'not-permitted';

/** The node {@link runMknod} makes, and where. */
interface MknodRequest {
  /** The path given to `mknod`. */
  target: string;
  kind: 'fifo' | 'char' | 'block';
  dev: { major: number; minor: number };
  /** If given, the program's descriptor 3. */
  dirFd?: number;
}

/** Runs `program` to make `req.target`. */
function runMknod(program: string, req: MknodRequest): Promise<Made> {
  const { target, kind, dev, dirFd } = req;
  return new Promise((resolve, reject) => {
    const args = ['-m', '0600', target, TYPE[kind], ...(kind === 'fifo' ? [] : [String(dev.major), String(dev.minor)])];
    const child = spawn(program, args, {
      stdio: ['ignore', 'ignore', 'pipe', ...(dirFd === undefined ? [] : [dirFd])],
      env: { LC_ALL: 'C' },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else if (/Operation not permitted/.test(stderr)) resolve('not-permitted');
      else reject(new Error(`mknod ${args.join(' ')} failed: ${stderr.trim() || `exit ${String(code)}`}`));
    });
  });
}

/** A SpecialFileMaker (see `layers/tools.ts`) on the `mknod` program at `program`. */
export function mknodTool(
  program: string,
): (hostPath: string, kind: 'fifo' | 'char' | 'block', dev: { major: number; minor: number }) => Promise<Made> {
  return async (hostPath, kind, dev) => {
    if (!hasRawBytes(hostPath)) return runMknod(program, { target: hostPath, kind, dev });
    const dir = dirname(hostPath);
    const temp = `.kiln-mknod-${randomBytes(8).toString('hex')}`;
    const fd = openSync(bytesOfName(dir), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      // /proc/self/fd/3 is the directory itself, however its path is spelt.
      const made = await runMknod(program, { target: `/proc/self/fd/3/${temp}`, kind, dev, dirFd: fd });
      if (made !== 'not-permitted') renameSync(bytesOfName(`${dir}/${temp}`), bytesOfName(hostPath));
      return made;
    } finally {
      closeSync(fd);
    }
  };
}
