/** Metadata instructions are pure functions of the stage state: table tests of what they set. */
import { expect, test } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { Instruction } from '../dockerfile/instructions.js';
import { cmd, entrypoint } from './command-form.js';
import { env } from './env.js';
import { expose } from './expose.js';
import { label } from './label.js';
import type { StageState } from './step.js';

function instruction(line: string): Instruction {
  const ins = parseDockerfile(`FROM scratch\n${line}\n`).stages[0]?.instructions[0];
  if (!ins) throw new Error(`no instruction in ${line}`);
  return ins;
}

const start = (over: Partial<StageState['config']> = {}): StageState => ({
  config: { Env: ['PATH=/bin', 'A=old'], ...over },
  args: new Map([['V', '1.2']]),
  escape: '\\',
  cmdSet: false,
});

test('ENV expands every pair against the environment before the instruction', () => {
  const ins = instruction('ENV A=new B=$A C="x y" D=${V}');
  if (ins.kind !== 'ENV') throw new Error('not ENV');
  expect(env(ins, start()).state.config.Env).toEqual(['PATH=/bin', 'A=new', 'B=old', 'C=x y', 'D=1.2']);
});

test('LABEL merges into existing labels and expands values', () => {
  const ins = instruction('LABEL version=$V "my key"="a b"');
  if (ins.kind !== 'LABEL') throw new Error('not LABEL');
  expect(label(ins, start({ Labels: { keep: 'yes' } })).state.config.Labels).toEqual({
    keep: 'yes',
    version: '1.2',
    'my key': 'a b',
  });
});

test.each([
  ['EXPOSE 80', ['80/tcp']],
  ['EXPOSE 53/udp 8000-8002', ['53/udp', '8000/tcp', '8001/tcp', '8002/tcp']],
])('%s exposes %j', (line, ports) => {
  const ins = instruction(line);
  if (ins.kind !== 'EXPOSE') throw new Error('not EXPOSE');
  expect(Object.keys(expose(ins, start()).state.config.ExposedPorts ?? {})).toEqual(ports);
});

test('EXPOSE refuses a malformed port with the Dockerfile line', () => {
  const ins = instruction('EXPOSE 99999');
  if (ins.kind !== 'EXPOSE') throw new Error('not EXPOSE');
  expect(() => expose(ins, start())).toThrow(/Dockerfile:2: EXPOSE: invalid port "99999"/);
});

test('ENTRYPOINT clears an inherited CMD but keeps one set in the stage', () => {
  const ep = instruction('ENTRYPOINT ["/app"]');
  const c = instruction('CMD run --fast');
  if (ep.kind !== 'ENTRYPOINT' || c.kind !== 'CMD') throw new Error('wrong kinds');
  const inherited = start({ Cmd: ['sh'] });
  expect(entrypoint(ep, inherited).state.config.Cmd).toBeNull();
  const withCmd = cmd(c, inherited).state;
  expect(withCmd.config.Cmd).toEqual(['/bin/sh', '-c', 'run --fast']);
  expect(entrypoint(ep, withCmd).state.config.Cmd).toEqual(['/bin/sh', '-c', 'run --fast']);
});
