/**
 * What the user sees at the end: the error report (one clear line for a user error, a stack for
 * a bug) and the result. Besides the logger, the only writer to stdout and stderr.
 */
import { BuildError } from '../errors.js';
import type { LogFormat } from '../log.js';

export interface Streams {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Reports an error; returns the exit code it maps to (ARCHITECTURE.md §8). */
export function reportError(err: unknown, format: LogFormat, io: Streams): number {
  if (err instanceof BuildError) {
    if (format === 'json') {
      io.err(
        JSON.stringify({
          level: 'error',
          code: err.code,
          exitCode: err.exitCode,
          msg: err.message,
          ...(err.hint ? { hint: err.hint } : {}),
        }) + '\n',
      );
    } else {
      io.err(`error: ${err.message}\n`);
      if (err.hint) io.err(`hint: ${err.hint}\n`);
    }
    return err.exitCode;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  if (format === 'json')
    io.err(
      JSON.stringify({ level: 'error', code: 'ERR_INTERNAL', exitCode: 1, msg: `internal error: ${detail}` }) + '\n',
    );
  else io.err(`internal error (this is a bug in Kiln; please report it):\n${detail}\n`);
  return 1;
}

/** The build's result on stdout: its last line is the image digest, for scripts. */
export function reportResult(digest: string, io: Streams): void {
  io.out(`${digest}\n`);
}
