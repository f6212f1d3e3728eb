import { describe, expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { parseContextSource, parseGitOptions, redactContext, type ContextFlags } from './context-spec.js';

const spec = (f: ContextFlags) => parseContextSource(f).spec;
const NO_GIT = { singleBranch: false, recurseSubmodules: false, insecureSkipTls: false };

describe("--context names the source Kaniko's README lists", () => {
  test.each([
    ['/workspace/', { kind: 'dir', path: '/workspace/' }],
    ['dir://workspace', { kind: 'dir', path: 'workspace' }],
    ['tar://ctx/context.tar.gz', { kind: 'tar', path: 'ctx/context.tar.gz' }],
    ['tar://stdin', { kind: 'stdin' }],
    ['s3://bucket/path/ctx.tar.gz', { kind: 's3', bucket: 'bucket', key: 'path/ctx.tar.gz' }],
    ['s3://bucket', { kind: 's3', bucket: 'bucket', key: 'context.tar.gz' }],
    ['gs://bucket/ctx.tar.gz', { kind: 'gs', bucket: 'bucket', object: 'ctx.tar.gz' }],
  ])('%s', (context, want) => {
    expect(spec({ context })).toEqual(want);
  });

  test('an https URL on Azure Blob Storage is a blob; any other http(s) URL a remote tarball', () => {
    expect(spec({ context: 'https://acct.blob.core.windows.net/ctr/dir/ctx.tar.gz' })).toMatchObject({
      kind: 'azure',
      account: 'acct',
      container: 'ctr',
      blob: 'dir/ctx.tar.gz',
    });
    expect(spec({ context: 'https://example.com/ctx.tar.gz' })).toMatchObject({ kind: 'url' });
    expect(spec({ context: 'http://127.0.0.1:8080/ctx.tar' })).toMatchObject({ kind: 'url' });
  });

  test('git://HOST/REPO.git#REF#COMMIT, with credentials kept apart from the URL and out of the display', () => {
    const s = parseContextSource({
      context: 'git://bob:s3cret@git.example/acme/app.git#refs/heads/main#0123456789abcdef',
      git: 'recurse-submodules=true',
    });
    expect(s.display).toBe('git://bob:***@git.example/acme/app.git#refs/heads/main#0123456789abcdef');
    expect(s.spec).toEqual({
      kind: 'git',
      url: new URL('https://git.example/acme/app.git'),
      ref: 'refs/heads/main',
      commit: '0123456789abcdef',
      auth: { username: 'bob', password: 's3cret' },
      options: { ...NO_GIT, recurseSubmodules: true },
    });
    expect(spec({ context: 'git://git.example/acme/app.git' })).toEqual({
      kind: 'git',
      url: new URL('https://git.example/acme/app.git'),
      options: NO_GIT,
    });
  });

  test.each([
    ['git://git.example/app.git#main#not-hex', /not a commit id/],
    ['git://git.example/app.git#a#b#c', /more than two #/],
    ['git://git.example', /names no repository/],
    ['ftp://host/ctx.tar', /unknown scheme ftp:\/\//],
    ['tar://', /names no file/],
    ['gs:///ctx.tar.gz', /names no bucket/],
    ['https://acct.blob.core.windows.net/ctr', /names no container and blob/],
  ])('%s is refused: %s', (context, why) => {
    expect(() => spec({ context })).toThrow(UsageError);
    expect(() => spec({ context })).toThrow(why);
  });
});

test("--bucket replaces --context (a bare name is GCS), the object defaulting to Kaniko's context.tar.gz", () => {
  expect(parseContextSource({ context: '/workspace/', bucket: 'b' })).toMatchObject({
    spec: { kind: 'gs', bucket: 'b', object: 'context.tar.gz' },
    flag: '--bucket',
  });
  expect(spec({ context: '/workspace/', bucket: 's3://b/x.tgz' })).toEqual({ kind: 's3', bucket: 'b', key: 'x.tgz' });
});

test('--context-sub-path: joined to a local directory; inside a fetched context, never outside it', () => {
  expect(spec({ context: 'dir:///ws', contextSubPath: 'app' })).toEqual({ kind: 'dir', path: '/ws/app' });
  expect(parseContextSource({ context: 'tar://c.tgz', contextSubPath: '/app/./one/' }).subPath).toBe('app/one');
  expect(parseContextSource({ context: 'tar://c.tgz', contextSubPath: '.' }).subPath).toBeUndefined();
  expect(() => parseContextSource({ context: 'tar://c.tgz', contextSubPath: 'a/../../x' })).toThrow(
    /leads outside the context/,
  );
});

test("Kaniko's --git options", () => {
  expect(parseGitOptions('branch=dev,single-branch=true,recurse-submodules=false,insecure-skip-tls=TRUE')).toEqual({
    branch: 'dev',
    singleBranch: true,
    recurseSubmodules: false,
    insecureSkipTls: true,
  });
  expect(parseGitOptions('branch=,single-branch=false,recurse-submodules=false'.replace('branch=,', ''))).toEqual(
    NO_GIT,
  );
  expect(() => parseGitOptions('depth=1')).toThrow(/unknown option "depth"/);
  expect(() => parseGitOptions('single-branch=yes')).toThrow(/takes true or false/);
});

test('a password in a context URL never shows', () => {
  expect(redactContext('git://tok:x-oauth@github.com/a/b.git')).toBe('git://tok:***@github.com/a/b.git');
  expect(redactContext('https://user:pw@host/ctx.tgz')).toBe('https://user:***@host/ctx.tgz');
  expect(redactContext('git://github.com/a/b.git')).toBe('git://github.com/a/b.git');
  expect(redactContext('git://ghp_secret@github.com/a/b.git')).toBe('git://***@github.com/a/b.git');
  expect(redactContext('git://ghp_secret@github.com/a/b.git#main')).toBe('git://***@github.com/a/b.git#main');
});

test("a signed http(s) context URL's query values never show (issue 14)", () => {
  expect(redactContext('https://s3.example/b/ctx.tgz?X-Amz-Credential=AK&X-Amz-Signature=abc#frag')).toBe(
    'https://s3.example/b/ctx.tgz?X-Amz-Credential=***&X-Amz-Signature=***#frag',
  );
  expect(parseContextSource({ context: 'http://u:p@h/c.tar.gz?sig=s3cr3t' }).display).toBe(
    'http://u:***@h/c.tar.gz?sig=***',
  );
  expect(redactContext('https://h/ctx.tgz')).toBe('https://h/ctx.tgz');
});
