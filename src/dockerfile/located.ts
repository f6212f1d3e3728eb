/** Where a parse problem is, and the one way the parser reports it. */
import { DockerfileError, type SourceLocation } from '../errors.js';

/** An instruction's location and its first source line, for error messages. */
export interface Where {
  at: SourceLocation;
  /** The instruction's first physical line as written (printed under the message). */
  source: string;
}

/** Throws a {@link DockerfileError} at `where`; `hint` is a suggestion such as "did you mean …?". */
export function fail(where: Where, message: string, hint?: string, cause?: unknown): never {
  throw new DockerfileError(message, where.at, {
    source: where.source,
    ...(hint === undefined ? {} : { hint }),
    ...(cause === undefined ? {} : { cause }),
  });
}
