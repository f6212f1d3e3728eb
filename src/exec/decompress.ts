/**
 * Decompression of ADD archives in formats Node has no codec for (bzip2, xz, and zstd before
 * Node 22.15), through the host's own tools (`bzip2 -dc`, `xz -dc`, `zstd -dc`) as a streaming
 * filter: bytes in on stdin, bytes out on stdout, nothing held in memory.
 */
import type { Duplex } from 'node:stream';
import { filterProcess } from './filter-process.js';

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
export function externalDecompressor(
  codec: ExternalCodec,
  env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal,
): Duplex {
  const program = PROGRAM[codec];
  return filterProcess(
    program,
    ['-dc'],
    {
      spawn: (err) => {
        const missing = err.code === 'ENOENT';
        return new DecompressorFailed(
          missing
            ? `${codec} archives need the \`${program}\` program, which is not on PATH`
            : `${program}: ${err.message}`,
          missing,
          { cause: err },
        );
      },
      exit: (status, stderr) =>
        new DecompressorFailed(`${program} -dc failed (${status}): ${stderr || 'corrupt input'}`),
    },
    { env: { PATH: env.PATH ?? '/usr/bin:/bin' }, ...(signal ? { signal } : {}) },
  );
}
