import { expect, test } from 'vitest';
import { DockerfileError } from '../errors.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { onbuild, onbuildTriggers, withoutTriggers } from './onbuild.js';
import type { StageState } from './step.js';

const at = { file: 'Dockerfile', line: 3, column: 1 };
const state: StageState = { config: { OnBuild: ['RUN first'] }, args: new Map(), escape: '\\', cmdSet: false };

test('ONBUILD appends its trigger to the config', () => {
  const ins = parseDockerfile('FROM scratch\nONBUILD COPY --chown=1 . /app').stages[0]?.instructions[0];
  if (ins?.kind !== 'ONBUILD') throw new Error('not ONBUILD');
  expect(onbuild(ins, state).state.config.OnBuild).toEqual(['RUN first', 'COPY --chown=1 . /app']);
});

test("a base image's triggers become instructions at the child's FROM, heredocs included", () => {
  const triggers = onbuildTriggers(['RUN echo one', 'COPY a /b', 'RUN <<EOF\necho two\nEOF'], at, 'FROM base');
  expect(triggers.map((t) => t.kind)).toEqual(['RUN', 'COPY', 'RUN']);
  expect(triggers.every((t) => t.at === at)).toBe(true);
  const last = triggers[2];
  expect(last?.kind === 'RUN' && last.heredocs[0]?.content).toBe('echo two\n');
  expect(onbuildTriggers(undefined, at, 'FROM base')).toEqual([]);
});

test.each([
  ['ONBUILD RUN x', /is not allowed as a trigger/],
  ['MAINTAINER me', /is not allowed as a trigger/],
  ['FROM other', /should be a single instruction/],
  ['RUNN x', /is invalid: unknown instruction: RUNN/],
])('a trigger %j from a hand-made image is refused at the FROM line', (trigger, message) => {
  expect(() => onbuildTriggers([trigger], at, 'FROM base')).toThrow(DockerfileError);
  expect(() => onbuildTriggers([trigger], at, 'FROM base')).toThrow(message);
  expect(() => onbuildTriggers([trigger], at, 'FROM base')).toThrow(/^Dockerfile:3: /);
});

test('after the triggers ran, OnBuild is gone from the config', () => {
  expect(withoutTriggers(state).config).toEqual({});
});
