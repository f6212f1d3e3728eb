/**
 * What a RUN executes, as BuildKit decides it (dockerfile2llb `dispatchRun`): the shell or exec
 * form, and for heredocs —
 * - a lone `RUN <<EOF` runs the body itself as the shell script, or, when the body starts with
 *   `#!`, writes it as an executable file at /dev/pipes/EOF and runs that path through the shell
 *   (the kernel then starts the interpreter the `#!` line names);
 * - anything else (`RUN python3 <<EOF`, several heredocs) gets each body and closing delimiter
 *   appended to the command line, and the shell reads the heredocs itself.
 * BuildKit ignores the "expand" property of RUN heredocs: the shell does its own expansion.
 * PURE.
 */
import type { RunInstruction } from '../dockerfile/instructions.js';
import { parseHeredocWord } from '../dockerfile/heredoc.js';
import { commandArgv } from './command-form.js';
import type { StageState } from './step.js';

/** Where BuildKit mounts the file of a `#!` heredoc. */
export const PIPES_DIR = '/dev/pipes';

/** What a RUN executes. */
export interface RunCommand {
  argv: string[];
  /** A `#!` heredoc to place, executable and read-only, at `/dev/pipes/<name>`. */
  script?: { name: string; content: string };
}

/** The argv of a RUN in this stage (SHELL applies to the shell form), and the heredoc script file it needs. */
export function runCommand(ins: RunInstruction, state: StageState): RunCommand {
  const first = ins.heredocs[0];
  if (first === undefined || ins.command.form === 'exec') return { argv: commandArgv(ins.command, state) };
  const line = ins.command.command;
  if (parseHeredocWord(line.trim()) !== undefined) {
    if (first.content.startsWith('#!')) {
      return {
        argv: commandArgv({ form: 'shell', command: `${PIPES_DIR}/${first.name}` }, state),
        script: { name: first.name, content: first.content },
      };
    }
    return { argv: commandArgv({ form: 'shell', command: first.content }, state) };
  }
  let full = line;
  for (const h of ins.heredocs) full += `\n${h.content}${h.name}`;
  return { argv: commandArgv({ form: 'shell', command: full }, state) };
}
