import { describe, expect, test } from 'vitest';
import { normaliseArgv, type FlagSpec } from './argv.js';
import { buildProgram, flagSpec } from './program.js';

/** A few flags of each kind, as the program defines them. */
const SPEC: FlagSpec = {
  takesValue: new Set(['dockerfile', 'f', 'context', 'c', 'verbosity', 'v', 'label', 'tar-path', 'snapshot-mode']),
  booleans: new Set(['no-push', 'insecure', 'skip-tls-verify']),
  shorts: new Set(['f', 'c', 'v']),
};

const argv = (args: string[]): string[] => normaliseArgv(args, SPEC).argv;

describe("pflag's short flags with =", () => {
  test.each([
    [['-f=Dockerfile'], ['-f', 'Dockerfile']],
    [
      ['-v=trace', '-c=dir:///ws'],
      ['-v', 'trace', '-c', 'dir:///ws'],
    ],
    // Only the first "=" separates: the value may itself start with or hold one.
    [['-f==odd'], ['-f', '=odd']],
    [['-c=a=b'], ['-c', 'a=b']],
    // `-f=` alone is the value "=" for pflag and for commander alike.
    [['-f='], ['-f=']],
    // The other forms commander already reads.
    [
      ['-f', 'x', '-fx', '--dockerfile=x'],
      ['-f', 'x', '-fx', '--dockerfile=x'],
    ],
    // An unknown letter is left for commander to refuse.
    [['-z=1'], ['-z=1']],
  ])('%j → %j', (args, expected) => {
    expect(argv(args)).toEqual(expected);
  });

  test('the value of a flag is never rewritten, whatever it looks like', () => {
    expect(argv(['-f', '-v=trace', '--label', '--tarPath=x', '-c', '=ctx'])).toEqual([
      '-f',
      '-v=trace',
      '--label',
      '--tarPath=x',
      '-c',
      '=ctx',
    ]);
    expect(argv(['--', '-f=x', '--tarPath'])).toEqual(['--', '-f=x', '--tarPath']);
  });
});

describe("pflag's boolean values", () => {
  test.each([
    [
      ['--no-push=true', '--insecure=false', '--skip-tls-verify=TRUE'],
      ['--no-push', '--skip-tls-verify'],
    ],
    [
      ['--no-push=1', '--insecure=t', '--skip-tls-verify=F'],
      ['--no-push', '--insecure'],
    ],
    [['--context=dir://x'], ['--context=dir://x']],
  ])('%j → %j', (args, expected) => {
    expect(argv(args)).toEqual(expected);
  });

  test('a value that is not a boolean is refused', () => {
    expect(() => argv(['--no-push=maybe'])).toThrow(/--no-push=maybe: expected true or false/);
  });
});

describe("Kaniko's deprecated flags", () => {
  test.each([
    [['--snapshotMode=redo'], ['--snapshot-mode=redo'], '--snapshotMode', '--snapshot-mode'],
    [['--snapshotMode', 'time'], ['--snapshot-mode', 'time'], '--snapshotMode', '--snapshot-mode'],
    [['--tarPath', 'x.tar'], ['--tar-path', 'x.tar'], '--tarPath', '--tar-path'],
    [['--customPlatform=linux/arm64'], ['--custom-platform=linux/arm64'], '--customPlatform', '--custom-platform'],
    [['--whitelist-var-run=false'], ['--ignore-var-run=false'], '--whitelist-var-run', '--ignore-var-run'],
  ])('%j is read as %j, with a warning', (args, expected, old, replacement) => {
    const got = normaliseArgv(args, SPEC);
    expect(got.argv).toEqual(expected);
    expect(got.warnings).toEqual([`Flag ${old} is deprecated. Use: ${replacement}`]);
  });

  test('no warning without them', () => {
    expect(normaliseArgv(['--snapshot-mode=full', '-f=x'], SPEC).warnings).toEqual([]);
  });
});

test("the program's spec: Kaniko's short flags take values, booleans are known", () => {
  const spec = flagSpec(buildProgram(() => {}, { out: () => {}, err: () => {} }));
  expect([...spec.shorts].sort()).toEqual(['b', 'c', 'd', 'f', 'v']);
  for (const f of ['f', 'c', 'd', 'v', 'b', 'dockerfile', 'destination', 'tar-path', 'cache-ttl'])
    expect(spec.takesValue.has(f)).toBe(true);
  for (const f of ['no-push', 'force', 'cleanup', 'cache', 'no-push-cache', 'force-build-metadata'])
    expect(spec.booleans.has(f)).toBe(true);
  // `--ignore-var-run [bool]` takes its value itself.
  expect(spec.booleans.has('ignore-var-run')).toBe(false);
  expect(spec.takesValue.has('ignore-var-run')).toBe(false);
});
