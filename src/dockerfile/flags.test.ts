import { describe, expect, test } from 'vitest';
import { DockerfileError } from '../errors.js';
import { extractBuilderFlags, parseFlags } from './flags.js';

const where = { at: { file: 'Dockerfile', line: 1, column: 1 }, source: '' };

describe('extractBuilderFlags', () => {
  test.each<[string, string[], string]>([
    ['--from=a src dst', ['--from=a'], 'src dst'],
    ['  --link   --chmod=755 a b', ['--link', '--chmod=755'], 'a b'],
    ['--chown="app user" a b', ['--chown=app user'], 'a b'],
    ["--x='a\"b' c", ['--x=a"b'], 'c'],
    ['--x=a\\ b c', ['--x=a b'], 'c'],
    ['--x="" c', ['--x='], 'c'],
    ['-- --not-a-flag', [], ' --not-a-flag'],
    ['--a -- b', ['--a'], ' b'],
    ['-x --y', [], '-x --y'],
    ['echo --y', [], 'echo --y'],
    ['--only', ['--only'], ''],
    ['["--x"]', [], '["--x"]'],
    ['--x=1\\', ['--x=1'], ''],
  ])('%j → flags %j, rest %j', (line, flags, rest) => {
    expect(extractBuilderFlags(line)).toEqual({ flags, rest });
  });
});

describe('parseFlags', () => {
  test('strings, booleans and repeatable lists', () => {
    expect(parseFlags('COPY', ['--from=b', '--link', '--parents=false', '--exclude=a', '--exclude=b'], where)).toEqual({
      values: { from: 'b', link: true, exclude: 'b' },
      booleans: { link: true, parents: false },
      lists: { exclude: ['a', 'b'] },
    });
  });

  test('RUN --mount repeats, --network does not', () => {
    expect(
      parseFlags('RUN', ['--mount=type=cache,target=/a', '--mount=type=tmpfs,target=/b'], where).lists.mount,
    ).toEqual(['type=cache,target=/a', 'type=tmpfs,target=/b']);
    expect(() => parseFlags('RUN', ['--network=none', '--network=host'], where)).toThrow(
      'duplicate flag specified: --network for RUN',
    );
  });

  test.each<[Parameters<typeof parseFlags>[0], string, string, string | undefined]>([
    ['COPY', '--chonw=1', 'unknown flag: --chonw for COPY', 'did you mean --chown?'],
    ['ADD', '--checksun=x', 'unknown flag: --checksun for ADD', 'did you mean --checksum?'],
    ['FROM', '--platfrom=linux/amd64', 'unknown flag: --platfrom for FROM', 'did you mean --platform?'],
    ['RUN', '--mnt=type=cache', 'unknown flag: --mnt for RUN', 'did you mean --mount?'],
    ['RUN', '--device=/dev/fuse', 'unknown flag: --device for RUN', 'RUN accepts --mount, --network, --security'],
    ['HEALTHCHECK', '--interval', 'missing a value on flag: --interval for HEALTHCHECK', 'write --interval=<value>'],
    ['WORKDIR', '--x=1', 'unknown flag: --x for WORKDIR', 'WORKDIR takes no flags'],
    ['COPY', '--link=yes', 'expecting boolean value for flag --link of COPY, not: yes', undefined],
  ])('%s %s fails', (kind, flag, message, hint) => {
    let err: unknown;
    try {
      parseFlags(kind, [flag], where);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DockerfileError);
    expect((err as DockerfileError).message).toBe(`Dockerfile:1: ${message}`);
    expect((err as DockerfileError).hint).toBe(hint);
  });
});
