/**
 * How RUN executes a process inside the rootfs (DESIGN.md §3). A ProcessRunner is chosen once
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
}

export interface RunResult {
  /** Exit status, or null when killed by a signal. */
  exitStatus: number | null;
  signal: NodeJS.Signals | null;
}

export type IsolationMode = 'namespaces' | 'chroot';

export interface ProcessRunner {
  readonly mode: IsolationMode;
  /** Runs the process; every process it left behind is killed when it ends or the signal aborts. */
  run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult>;
}
