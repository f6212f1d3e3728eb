/**
 * Runs a system tool (tar, gzip, skopeo, umoci) for the test harness and fails loudly with its
 * stderr, so a broken fixture says which command broke and why.
 */
import { execFile } from 'node:child_process';

/** Runs `cmd args…` to completion; resolves with its stdout bytes, rejects with stderr on failure. */
export async function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr.toString()}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** Runs `skopeo` with the harness defaults (no dependency on the host's signature policy). */
export async function skopeo(args: string[]): Promise<Buffer> {
  return run('skopeo', ['--insecure-policy', ...args]);
}
