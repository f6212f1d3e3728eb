/**
 * Decompression of ADD archives in formats Node has no codec for (bzip2, xz, and zstd before
 * Node 22.15), through the host's own tools (`bzip2 -dc`, `xz -dc`, `zstd -dc`) as a streaming
 * filter: bytes in on stdin, bytes out on stdout, nothing held in memory.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';

/** The external formats and the program that decompresses each. */
export type ExternalCodec = 'bzip2' | 'xz' | 'zstd';

const PROGRAM: Record<ExternalCodec, string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/** Emitted as the stream's error when the tool is missing or fails; says which and why. */
export class DecompressorFailed extends Error {
  constructor(
    message: string,
    /** The program is not installed (as opposed to failing on its input). */
    readonly missingProgram = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A Duplex that decompresses what is written to it with the host tool for `codec`. Errors —
 * the tool missing from `PATH`, corrupt input (non-zero exit, with the tool's stderr) — are
 * emitted on the stream. `env` is the build's environment (for PATH).
 */
export function externalDecompressor(codec: ExternalCodec, env: Readonly<Record<string, string | undefined>>, signal?: AbortSignal): Duplex {
  const program = PROGRAM[codec];
  const child = spawn(program, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: env.PATH ?? '/usr/bin:/bin' }, ...(signal ? { signal } : {}) });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  // The output ends only once the tool exited 0, so a corrupt archive is an error, never a short read.
  const out = new PassThrough();
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.stdin.on('error', () => undefined); // EPIPE when the tool exits early; the exit status says why
  child.once('error', (err) => {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    duplex.destroy(new DecompressorFailed(missing ? `${codec} archives need the \`${program}\` program, which is not on PATH` : `${program}: ${err.message}`, missing, { cause: err }));
  });
  child.once('close', (code, sig) => {
    if (code === 0) out.end();
    else if (!duplex.destroyed) duplex.destroy(new DecompressorFailed(`${program} -dc failed (${sig ?? `exit ${code}`}): ${stderr.trim() || 'corrupt input'}`));
  });
  // Whoever stops reading early (a file that is not a tar after all) must not leave the tool running.
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return duplex;
}
