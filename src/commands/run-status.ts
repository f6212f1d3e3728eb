/**
 * What a failed RUN makes Kiln exit with (ARCHITECTURE.md §8). Kaniko propagates the command's
 * own exit status (`exec.ExitError.ExitCode()` in cmd/executor/cmd/root.go; its integration test
 * `exit-code-propagation` expects 42 from `RUN exit 42`), and CI scripts read it. A command killed
 * by signal N gives 128+N, as a shell reports it and as `runc run` exits under namespaces
 * isolation, so every isolation mode agrees. (Kaniko exits 255 there: Go's `ExitCode()` is -1 for
 * a signal, and `os.Exit(-1)` is 255.)
 */
import { constants } from 'node:os';
import type { RunResult } from '../exec/runner.js';

/** How a RUN that did not succeed ended: the status Kiln exits with and the words for the message. */
export interface RunFailure {
  /** 1–255, or undefined when the runner could not say (then the step's exit 6 stands). */
  exitCode: number | undefined;
  /** e.g. `exited with status 42`, `was killed by SIGKILL (status 137)`. */
  said: string;
}

/** The failure of a RUN whose result is not a zero exit status. */
export function runFailure(result: RunResult): RunFailure {
  if (result.exitStatus !== null)
    return { exitCode: result.exitStatus, said: `exited with status ${result.exitStatus}` };
  const sig = result.signal;
  if (sig === null) return { exitCode: undefined, said: 'was killed by a signal' };
  // Typed as every signal's number, though a platform lacks some (SIGBREAK on Linux).
  const signo: number | undefined = constants.signals[sig];
  if (signo === undefined) return { exitCode: undefined, said: `was killed by ${sig}` };
  const exitCode = 128 + signo;
  return { exitCode, said: `was killed by ${sig} (status ${exitCode})` };
}
