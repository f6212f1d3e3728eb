/**
 * mknod(2) for layer extraction through coreutils `mknod` (Node has no binding for it): fifos
 * always, character and block devices where the process may (CAP_MKNOD, not in a user
 * namespace). Where the kernel says EPERM, the caller skips the entry with a warning, as Docker
 * does when running rootless (moby pkg/archive `createTarFile`).
 */
import { spawn } from 'node:child_process';

const TYPE = { fifo: 'p', char: 'c', block: 'b' } as const;

/** A SpecialFileMaker (see `layers/tools.ts`) on the `mknod` program at `program`. */
export function mknodTool(program: string): (hostPath: string, kind: 'fifo' | 'char' | 'block', dev: { major: number; minor: number }) => Promise<void | 'not-permitted'> {
  return (hostPath, kind, dev) =>
    new Promise((resolve, reject) => {
      const args = ['-m', '0600', hostPath, TYPE[kind], ...(kind === 'fifo' ? [] : [String(dev.major), String(dev.minor)])];
      const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { LC_ALL: 'C' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
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
