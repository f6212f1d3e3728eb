/**
 * Kiln's error hierarchy. Every error a user can cause is a {@link BuildError} with a stable
 * `code` and an exit code (ARCHITECTURE.md §8); anything else reaching the CLI boundary is a bug.
 * Only `cli/main.ts` maps these to process exit codes.
 */

/** Where in a Dockerfile something is. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** Base of every user-facing error. The message's first line says what was being done and why it failed. */
export abstract class BuildError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
  /** A suggestion printed under the message, e.g. how to fix a flag. */
  readonly hint: string | undefined;

  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** Bad command line: unknown flag, missing destination, malformed value. Exit 2. */
export class UsageError extends BuildError {
  readonly code = 'ERR_USAGE';
  readonly exitCode = 2;
}

/** A Dockerfile that cannot be built as written. Exit 3. */
export class DockerfileError extends BuildError {
  readonly code = 'ERR_DOCKERFILE';
  readonly exitCode = 3;
  constructor(
    message: string,
    readonly at: SourceLocation,
    options?: { cause?: unknown; hint?: string; source?: string },
  ) {
    super(`${at.file}:${at.line}: ${message}` + (options?.source ? `\n  ${at.line} | ${options.source}` : ''), options);
  }
}

/** A registry refused, failed or could not be reached. Exit 4. */
export class RegistryError extends BuildError {
  readonly code = 'ERR_REGISTRY';
  readonly exitCode = 4;
  constructor(
    message: string,
    readonly details: { registry: string; repository?: string; status?: number; codes?: string[] },
    options?: { cause?: unknown; hint?: string },
  ) {
    super(message, options);
  }
}

/**
 * A remote build context could not be fetched (issue 14): a missing file, object, bucket,
 * repository or ref, denied access, an unreachable endpoint. Exit 4, as a registry that cannot be
 * reached: the build's inputs are elsewhere and did not come. `context` is the context as the
 * user wrote it, with secrets redacted (config/context-spec.ts).
 */
export class ContextError extends BuildError {
  readonly code = 'ERR_CONTEXT';
  readonly exitCode = 4;
  constructor(
    message: string,
    readonly context: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(message, options);
  }
}

/** Content that is not what it claims (digest or size mismatch) or is unsafe (a tar entry escaping the rootfs). Exit 5. */
export class IntegrityError extends BuildError {
  readonly code = 'ERR_INTEGRITY';
  readonly exitCode = 5;
}

/**
 * A build step failed: a COPY source is missing, a RUN could not run or exited non-zero. Exit 6,
 * except for a RUN that exited non-zero: that RUN's own status (1–255), as Kaniko exits with it
 * (ARCHITECTURE.md §8).
 */
export class StepError extends BuildError {
  readonly code = 'ERR_STEP';
  readonly exitCode: number;
  constructor(
    message: string,
    readonly at?: SourceLocation,
    options?: { cause?: unknown; hint?: string; exitCode?: number },
  ) {
    super(at ? `${at.file}:${at.line}: ${message}` : message, options);
    const own = options?.exitCode;
    // 0 would report success and anything above 255 is not an exit status: those keep exit 6.
    this.exitCode = own !== undefined && Number.isInteger(own) && own >= 1 && own <= 255 ? own : 6;
  }
}

/** The local filesystem refused: disk full, not writable, missing output directory. Exit 7. */
export class FilesystemError extends BuildError {
  readonly code = 'ERR_FILESYSTEM';
  readonly exitCode = 7;
}

/** The build was stopped by a signal. Exit 130 (SIGINT) or 143 (SIGTERM). */
export class InterruptedError extends BuildError {
  readonly code = 'ERR_INTERRUPTED';
  readonly exitCode: number;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`build interrupted by ${signal}`);
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
  }
}

/** Node's system error shape (`ENOENT`, `ENOSPC`, …), narrowed without `any`. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** Wraps a local filesystem failure into a {@link FilesystemError} saying what was being done; BuildErrors and bugs (no system error code) come back as they are. */
export function fsError(doing: string, err: unknown): Error {
  if (err instanceof BuildError) return err;
  // Only the operating system's refusals are the filesystem's fault; anything else is a bug and
  // keeps its class, so that it reaches the CLI as exit 1 with its stack.
  if (!isSystemError(err)) return err instanceof Error ? err : new Error(String(err));
  const code = errnoCode(err);
  const why =
    code === 'ENOSPC'
      ? 'no space left on device'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only filesystem'
          : code === 'ENOENT'
            ? 'no such file or directory'
            : err instanceof Error
              ? err.message
              : String(err);
  return new FilesystemError(`${doing}: ${why}`, { cause: err });
}

/** An error of the operating system (`ENOSPC`, `EACCES`, …) or of Node's fs layer (`ERR_FS_FILE_TOO_LARGE`…), as opposed to a bug. */
export function isSystemError(err: unknown): boolean {
  const code = errnoCode(err) ?? '';
  return /^E[A-Z0-9]+$/.test(code) || code.startsWith('ERR_FS_');
}
