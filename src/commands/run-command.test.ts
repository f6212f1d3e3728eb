import { expect, test } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { RunInstruction } from '../dockerfile/instructions.js';
import { runCommand } from './run-command.js';
import type { StageState } from './step.js';

const state: StageState = { config: {}, args: new Map(), escape: '\\', cmdSet: false };

function runOf(text: string): RunInstruction {
  const ins = parseDockerfile(`FROM scratch\n${text}`).stages[0]?.instructions[0];
  if (ins?.kind !== 'RUN') throw new Error(`not a RUN: ${text}`);
  return ins;
}

test.each([
  ['RUN echo hi', ['/bin/sh', '-c', 'echo hi']],
  ['RUN ["echo", "hi"]', ['echo', 'hi']],
  // A lone heredoc is the script itself (BuildKit's "fake heredoc"), expansion left to the shell.
  ['RUN <<EOF\necho $HOME\necho two\nEOF', ['/bin/sh', '-c', 'echo $HOME\necho two\n']],
  ['RUN <<"EOF"\necho $HOME\nEOF', ['/bin/sh', '-c', 'echo $HOME\n']],
  ['RUN <<-EOF\n\techo tabbed\n\tEOF', ['/bin/sh', '-c', 'echo tabbed\n']],
  // Otherwise bodies and delimiters are appended and the shell reads the heredocs.
  ['RUN cat <<EOF > /out\nline\nEOF', ['/bin/sh', '-c', 'cat <<EOF > /out\nline\nEOF']],
  ['RUN cat <<A <<B\na\nA\nb\nB', ['/bin/sh', '-c', 'cat <<A <<B\na\nA\nb\nB']],
  ["RUN python3 <<'PY'\nprint(1)\nPY", ['/bin/sh', '-c', "python3 <<'PY'\nprint(1)\nPY"]],
])('%j runs %j', (text, argv) => {
  expect(runCommand(runOf(text), state)).toEqual({ argv });
});

test('a lone #! heredoc becomes an executable file in /dev/pipes run through the shell', () => {
  expect(runCommand(runOf('RUN <<SCRIPT\n#!/bin/busybox awk -f\nBEGIN { print 1 }\nSCRIPT'), state)).toEqual({
    argv: ['/bin/sh', '-c', '/dev/pipes/SCRIPT'],
    script: { name: 'SCRIPT', content: '#!/bin/busybox awk -f\nBEGIN { print 1 }\n' },
  });
});

test('SHELL applies to heredoc scripts as to any shell form', () => {
  const bash = { ...state, config: { Shell: ['/bin/bash', '-eu', '-c'] } };
  expect(runCommand(runOf('RUN <<EOF\nset -o pipefail\nEOF'), bash).argv).toEqual([
    '/bin/bash',
    '-eu',
    '-c',
    'set -o pipefail\n',
  ]);
});
