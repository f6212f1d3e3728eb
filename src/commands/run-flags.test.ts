import { expect, test } from 'vitest';
import { DockerfileError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { RunInstruction } from '../dockerfile/instructions.js';
import { checkRunSecurity, runNetwork } from './run-flags.js';

function runOf(text: string): RunInstruction {
  const ins = parseDockerfile(`FROM scratch\n${text}`).stages[0]?.instructions[0];
  if (ins?.kind !== 'RUN') throw new Error(`not a RUN: ${text}`);
  return ins;
}

test.each([
  ['RUN true', 'host'],
  ['RUN --network=default true', 'host'],
  ['RUN --network=host true', 'host'],
  ['RUN --network=none true', 'none'],
])('%s runs in the %s network', (text, network) => {
  expect(runNetwork(runOf(text))).toBe(network);
});

test('an unknown network mode is a Dockerfile error at the line', () => {
  expect(() => runNetwork(runOf('RUN --network=bridge true'))).toThrow(
    /Dockerfile:2: unsupported network mode "bridge" for RUN --network/,
  );
});

test('--security=sandbox is the default; insecure is refused', () => {
  expect(() => checkRunSecurity(runOf('RUN --security=sandbox true'))).not.toThrow();
  expect(() => checkRunSecurity(runOf('RUN --security=insecure true'))).toThrow(DockerfileError);
  expect(() => checkRunSecurity(runOf('RUN --security=insecure true'))).toThrow(
    /Dockerfile:2: RUN --security=insecure is not supported/,
  );
  expect(() => checkRunSecurity(runOf('RUN --security=lax true'))).toThrow(/unsupported security mode "lax"/);
});
