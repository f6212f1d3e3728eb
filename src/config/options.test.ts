import { expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { parseBuildOptions } from './options.js';

test('a push needs a destination; --no-push or KANIKO_NO_PUSH does not', () => {
  expect(() => parseBuildOptions({}, {})).toThrow(UsageError);
  expect(() => parseBuildOptions({}, {})).toThrow(/no --destination given/);
  expect(parseBuildOptions({ push: false }, {}).push).toBe(false);
  expect(parseBuildOptions({}, { KANIKO_NO_PUSH: 'true' }).push).toBe(false);
});

test('destinations are normalised references', () => {
  const o = parseBuildOptions({ destination: ['busybox', 'localhost:5000/a/b:1'] }, {});
  expect(o.destinations).toEqual([
    { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' },
    { registry: 'localhost:5000', repository: 'a/b', tag: '1' },
  ]);
  expect(() => parseBuildOptions({ destination: ['UPPER/Case'] }, {})).toThrow(/--destination "UPPER\/Case"/);
});

test('--build-arg KEY=V, and KEY alone from the environment (dropped when unset)', () => {
  const o = parseBuildOptions(
    { push: false, buildArg: ['A=1', 'B=x=y', 'FROM_ENV', 'UNSET', 'EMPTY='] },
    { FROM_ENV: 'env-value' },
  );
  expect([...o.buildArgs]).toEqual([
    ['A', '1'],
    ['B', 'x=y'],
    ['FROM_ENV', 'env-value'],
    ['EMPTY', ''],
  ]);
  expect(() => parseBuildOptions({ push: false, buildArg: ['=v'] }, {})).toThrow(/name before "=" is empty/);
});

test('the context accepts DIR and dir://DIR, and bucket objects (issue 14)', () => {
  expect(parseBuildOptions({ push: false, context: 'dir:///ws' }, {}).contextDir).toBe('/ws');
  expect(parseBuildOptions({ push: false, context: 'ctx' }, {}).contextDir).toBe('ctx');
  expect(parseBuildOptions({ push: false, context: 's3://bucket/ctx.tgz' }, {}).context.spec).toEqual({
    kind: 's3',
    bucket: 'bucket',
    key: 'ctx.tgz',
  });
});

test('insecure and TLS flags apply to pulls and pushes separately, or per registry', () => {
  const o = parseBuildOptions(
    { push: false, insecurePull: true, insecureRegistry: ['r.example'], skipTlsVerifyRegistry: ['s.example'] },
    {},
  );
  expect(o.insecurePull('any.example')).toBe(true);
  expect(o.insecurePush('any.example')).toBe(false);
  expect(o.insecurePush('r.example')).toBe(true);
  expect(o.skipTlsVerifyPush('s.example')).toBe(true);
  expect(o.skipTlsVerifyPull('r.example')).toBe(false);
});

test('--custom-platform must be os/arch[/variant]', () => {
  expect(parseBuildOptions({ push: false, customPlatform: 'linux/arm/v7' }, {}).platform).toEqual({
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
  expect(() => parseBuildOptions({ push: false, customPlatform: 'arm64' }, {})).toThrow(/expected os\/arch/);
});

test('--context-sub-path is joined to the context, in both spellings', () => {
  expect(parseBuildOptions({ push: false, context: 'dir:///ws', contextSubPath: 'a/b' }, {}).contextDir).toBe(
    '/ws/a/b',
  );
  expect(parseBuildOptions({ push: false, context: 'ws', contextSubPath: 'app' }, {}).contextDir).toBe('ws/app');
  expect(parseBuildOptions({ push: false, context: '/ws', contextSubPath: '' }, {}).contextDir).toBe('/ws');
});

test('KANIKO_DIR is the default --kaniko-dir (issue 13)', () => {
  expect(parseBuildOptions({ push: false }, { KANIKO_DIR: '/kd' }).kanikoDir).toBe('/kd');
  expect(parseBuildOptions({ push: false, kanikoDir: '/flag' }, { KANIKO_DIR: '/kd' }).kanikoDir).toBe('/flag');
});

test('a file of image names without a destination is refused, as Kaniko refuses it (issue 13)', () => {
  expect(() => parseBuildOptions({ push: false, imageNameWithDigestFile: 'n' }, {})).toThrow(
    /^you must provide --destination if setting --image-name-with-digest-file/,
  );
  expect(() => parseBuildOptions({ push: false, imageNameTagWithDigestFile: 't' }, {})).toThrow(
    /^you must provide --destination if setting --image-name-tag-with-digest-file/,
  );
  expect(
    parseBuildOptions({ push: false, destination: ['r.example/a'], imageNameWithDigestFile: 'n' }, {})
      .imageNameWithDigestFile,
  ).toBe('n');
});

test('the layer cache is off unless --cache is given (issue 15); every remote context is accepted (issue 14)', () => {
  expect(parseBuildOptions({ push: false, cacheRepo: 'r.example/c' }, {}).cache).toMatchObject({ enabled: false });
  expect(() => parseBuildOptions({ push: false, cache: true }, {})).toThrow(/^--cache needs a --cache-repo/);
  for (const context of ['s3://b/ctx.tar.gz', 'git://h.example/r.git', 'tar://stdin', 'https://h.example/c.tgz'])
    expect(parseBuildOptions({ push: false, context }, {}).contextDir).toBeUndefined();
  // Kaniko's --git always has a value: a directory context ignores it.
  expect(parseBuildOptions({ push: false, context: 'ctx', git: 'branch=main' }, {}).contextDir).toBe('ctx');
  // Kaniko's --bucket replaces --context: gs://b/context.tar.gz (issue 14).
  expect(parseBuildOptions({ push: false, bucket: 'b' }, {}).context).toMatchObject({
    spec: { kind: 'gs', bucket: 'b', object: 'context.tar.gz' },
    flag: '--bucket',
  });
  expect(parseBuildOptions({ push: false, cache: false }, {}).push).toBe(false);
});
