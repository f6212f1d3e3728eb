/**
 * A host program run as a streaming filter (bytes in on stdin, out on stdout, nothing held in
 * memory) and seen as one Duplex. The output ends only once the program exited 0, so a failure
 * is an error on the stream, never a short read; whoever stops reading early does not leave the
 * program running.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';

/** How a filter's failures read: the program could not start, or it exited non-zero. */
export interface FilterErrors {
  spawn(err: NodeJS.ErrnoException): Error;
  exit(status: string, stderr: string): Error;
}

/** Runs `program args…` as a filter; `env` replaces the environment when given. */
export function filterProcess(
  program: string,
  args: string[],
  errors: FilterErrors,
  opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Duplex {
  const child = spawn(program, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.stdin.on('error', () => undefined); // EPIPE when the program exits early; the exit status says why
  child.once('error', (err) => duplex.destroy(errors.spawn(err)));
  child.once('close', (code, sig) => {
    if (code === 0) out.end();
    else if (!duplex.destroyed) duplex.destroy(errors.exit(sig ?? `exit ${String(code)}`, stderr.trim()));
  });
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return duplex;
}
