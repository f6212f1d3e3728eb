/**
 * How RUN executes a process inside the rootfs (ARCHITECTURE.md §4). A ProcessRunner is chosen once
 * per build by `select.ts` — the strongest isolation the host allows — and logged.
 */

/** Numeric identity a RUN step runs as, resolved from the image's /etc/passwd and /etc/group. */
export interface RunUser {
  uid: number;
  gid: number;
}

export interface RunSpec {
  argv: string[];
  /** `KEY=value` strings, exactly the environment the process sees. */
  env: string[];
  /** Working directory inside the rootfs; must exist. */
  cwd: string;
  user: RunUser;
  /** Host path of the rootfs directory. */
  rootfs: string;
  /** Which mount points the rootfs has ready (real directories / regular files, never symlinks). */
  mounts: MountPlan;
  /**
   * `RUN --mount`s and inline documents, in mount order; only the "namespaces" runner can honour
   * them (the caller refuses them in "chroot" mode). Absent: none.
   */
  extra?: ExtraMounts;
  /** `RUN --network=none`: a fresh network namespace with only loopback. Default: the host's network. */
  network?: 'host' | 'none';
  /** Receives the process's stdout and stderr as they come. */
  onOutput: (chunk: Buffer) => void;
}

/** Mount points prepared inside the rootfs for a RUN (see rootfs/mount-points.ts). */
export interface MountPlan {
  dev: boolean;
  proc: boolean;
  sys: boolean;
  resolvConf: boolean;
  hosts: boolean;
  hostname: boolean;
}

/**
 * One `RUN --mount`, resolved to host paths by the caller. `target` is the host path of the mount
 * point, already present and free of symlinks (see rootfs/mount-points.ts); the mount lives only
 * in the step's private mount namespace.
 * - `bind`: `source` bound on `target`, read-only when `readonly`.
 * - `overlay`: `source` (a directory) shown writable with writes discarded when the step ends
 *   (BuildKit's `type=bind,rw`), via overlayfs on a private tmpfs.
 * - `tmpfs`: an empty tmpfs, limited to `sizeBytes` when given.
 */
export type RunMount =
  | { kind: 'bind'; source: string; target: string; readonly: boolean }
  | { kind: 'overlay'; source: string; target: string }
  | { kind: 'tmpfs'; target: string; sizeBytes?: number };

/** Everything a RUN mounts besides the standard mount points. */
export interface ExtraMounts {
  mounts: RunMount[];
  /** A host directory the runner may cover with a private tmpfs for its own bookkeeping (overlay layers). */
  scratch: string;
  /** A host directory shown read-only at /dev/pipes (BuildKit's place for a `#!` heredoc), if any. */
  pipes?: string;
  /** Lock files held (util-linux `flock`) while the step runs: `RUN --mount=type=cache,sharing=locked|private`. */
  locks: string[];
}

export interface RunResult {
  /** Exit status, or null when killed by a signal. */
  exitStatus: number | null;
  signal: NodeJS.Signals | null;
}

export type IsolationMode = 'namespaces' | 'chroot';

export interface ProcessRunner {
  readonly mode: IsolationMode;
  /** Why this mode was chosen, for the log line at the start of the build. */
  readonly reason: string;
  /** Runs the process; every process it left behind is killed when it ends or the signal aborts. */
  run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult>;
}
