import { Buffer } from 'node:buffer';
import { describe, expect, test } from 'vitest';
import { RegistryError } from '../errors.js';
import type { BuiltinHelpers } from './cloud/builtin-helpers.js';
import type { CredentialHelperRunner } from './credential-helper.js';
import {
  convertToHostname,
  decodeAuthEntry,
  dockerConfigCredentials,
  dockerConfigPath,
  findAuthEntry,
  findHelper,
  parseDockerConfig,
} from './credentials.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('dockerConfigPath', () => {
  test.each([
    [{}, '/home/u/.docker/config.json'],
    [{ DOCKER_CONFIG: '/kaniko/.docker' }, '/kaniko/.docker/config.json'],
    [{ DOCKER_CONFIG: '/etc/creds/config.json' }, '/etc/creds/config.json'],
    [{ DOCKER_CONFIG: '' }, '/home/u/.docker/config.json'],
  ])('%j → %s', (env, expected) => {
    expect(dockerConfigPath(env, '/home/u')).toBe(expected);
  });
});

describe('decodeAuthEntry', () => {
  test.each([
    ['base64 auth', { auth: b64('alice:pa:ss') }, { username: 'alice', password: 'pa:ss' }],
    ['username and password', { username: 'bob', password: 'pw' }, { username: 'bob', password: 'pw' }],
    [
      'identity token',
      { auth: b64('<token>:'), identitytoken: 'idt' },
      { username: '<token>', password: '', identityToken: 'idt' },
    ],
    ['registry token', { registrytoken: 'rt' }, { registryToken: 'rt' }],
    ['empty entry (credsStore writes these)', {}, undefined],
  ])('%s', (_name, entry, expected) => {
    expect(decodeAuthEntry(entry)).toEqual(expected);
  });

  test('auth without a colon is refused without quoting it', () => {
    expect(() => decodeAuthEntry({ auth: b64('nocolon') })).toThrow(/not base64 of "username:password"/);
  });
});

test.each([
  ['https://index.docker.io/v1/', 'index.docker.io'],
  ['http://Registry.Example:5000/path', 'registry.example:5000'],
  ['registry.example', 'registry.example'],
])('convertToHostname(%s)', (key, expected) => {
  expect(convertToHostname(key)).toBe(expected);
});

describe('findAuthEntry', () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
        'https://registry.example:5000/v2/': { auth: b64('ex:expw') },
        'ghcr.io': { username: 'gh', password: 'ghpw' },
      },
    }),
  );
  test.each([
    ['docker.io', { username: 'hub', password: 'hubpw' }],
    ['index.docker.io', { username: 'hub', password: 'hubpw' }],
    ['registry.example:5000', { username: 'ex', password: 'expw' }],
    ['ghcr.io', { username: 'gh', password: 'ghpw' }],
    ['registry.example', undefined],
    ['quay.io', undefined],
  ])('%s', (registry, expected) => {
    expect(findAuthEntry(config, registry)).toEqual(expected);
  });

  test('a docker.io key also serves Docker Hub', () => {
    expect(findAuthEntry({ auths: { 'docker.io': { auth: b64('a:b') } } }, 'docker.io')).toEqual({
      username: 'a',
      password: 'b',
    });
  });
});

test('findHelper: credHelpers by host, else credsStore', () => {
  const config = parseDockerConfig(
    JSON.stringify({ credHelpers: { 'gcr.io': 'gcloud', 'index.docker.io': 'hub' }, credsStore: 'pass' }),
  );
  expect(findHelper(config, 'gcr.io')).toBe('gcloud');
  expect(findHelper(config, 'docker.io')).toBe('hub');
  expect(findHelper(config, 'quay.io')).toBe('pass');
  expect(findHelper({}, 'quay.io')).toBeUndefined();
});

test('parseDockerConfig refuses malformed files without quoting them', () => {
  expect(() => parseDockerConfig('{"auths": {"x": {"auth": "c2VjcmV0"')).toThrow('it is not valid JSON');
  expect(() => parseDockerConfig('{"auths": []}')).toThrow(/unexpected content at auths/);
});

describe('dockerConfigCredentials', () => {
  const files =
    (content: Record<string, string>) =>
    async (p: string): Promise<string> => {
      const c = content[p];
      if (c === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return c;
    };
  const noHelper: CredentialHelperRunner = async () => {
    throw new Error('no helper expected');
  };

  test('reads $DOCKER_CONFIG/config.json', async () => {
    const provider = dockerConfigCredentials({
      env: { DOCKER_CONFIG: '/kaniko/.docker' },
      homeDir: '/root',
      readFile: files({
        '/kaniko/.docker/config.json': JSON.stringify({ auths: { 'r.example': { auth: b64('u:p') } } }),
      }),
      runHelper: noHelper,
    });
    expect(await provider.get('r.example')).toEqual({ username: 'u', password: 'p' });
    expect(await provider.get('other.example')).toBeUndefined();
  });

  test('a missing file means no credentials', async () => {
    const provider = dockerConfigCredentials({ env: {}, homeDir: '/root', readFile: files({}), runHelper: noHelper });
    expect(await provider.get('docker.io')).toBeUndefined();
  });

  test('origin: the file read or looked for, and the helper that supplied the credentials', async () => {
    const none = dockerConfigCredentials({ env: {}, homeDir: '/root', readFile: files({}), runHelper: noHelper });
    expect(await none.get('r.example')).toBeUndefined();
    expect(await none.origin?.('r.example')).toEqual({ path: '/root/.docker/config.json', found: false });

    const runHelper: CredentialHelperRunner = async (_program, _args, input) =>
      input === 'helped.example'
        ? { exitCode: 0, stdout: JSON.stringify({ Username: 'u', Secret: 's' }), stderr: '' }
        : { exitCode: 1, stdout: 'credentials not found in native keychain\n', stderr: '' };
    const provider = dockerConfigCredentials({
      env: { DOCKER_CONFIG: '/kaniko/.docker' },
      homeDir: '/root',
      readFile: files({
        '/kaniko/.docker/config.json': JSON.stringify({
          auths: { 'r.example': { auth: b64('u:p') } },
          credHelpers: { 'helped.example': 'ecr-login', 'empty.example': 'ecr-login' },
        }),
      }),
      runHelper,
    });
    await provider.get('r.example');
    await provider.get('helped.example');
    await provider.get('empty.example');
    expect(await provider.origin?.('r.example')).toEqual({ path: '/kaniko/.docker/config.json', found: true });
    expect(await provider.origin?.('helped.example')).toEqual({
      path: '/kaniko/.docker/config.json',
      found: true,
      helper: 'docker-credential-ecr-login',
      fromHelper: true,
    });
    expect(await provider.origin?.('empty.example')).toEqual({
      path: '/kaniko/.docker/config.json',
      found: true,
      helper: 'docker-credential-ecr-login',
      fromHelper: false,
    });
  });

  test('a built-in helper answers only when its program is not on PATH; a program on PATH wins', async () => {
    const config = JSON.stringify({ credHelpers: { 'a.example': 'ecr-login' }, credsStore: 'gcr' });
    const asked: string[] = [];
    const builtinHelpers = async () =>
      ({
        get: async (name: string, registry: string, explicit: boolean) => {
          asked.push(`${name} ${registry} ${explicit}`);
          return { username: 'AWS', password: 'from-builtin' };
        },
      }) as unknown as BuiltinHelpers;
    const missing: CredentialHelperRunner = async () => {
      throw Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
    };
    const provider = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({ '/h/.docker/config.json': config }),
      runHelper: missing,
      builtinHelpers,
    });
    expect(await provider.get('a.example')).toEqual({ username: 'AWS', password: 'from-builtin' });
    expect(await provider.get('b.example')).toEqual({ username: 'AWS', password: 'from-builtin' });
    expect(asked).toEqual(['ecr-login a.example true', 'gcr b.example false']);
    expect(await provider.origin?.('a.example')).toMatchObject({ helper: 'ecr-login (built into Kiln)' });

    const onPath: CredentialHelperRunner = async (program) => ({
      exitCode: 0,
      stdout: JSON.stringify({ Username: 'u', Secret: `from-${program}` }),
      stderr: '',
    });
    const own = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({ '/h/.docker/config.json': config }),
      runHelper: onPath,
      builtinHelpers: () => Promise.reject(new Error('the built-in helpers must not load')),
    });
    expect(await own.get('a.example')).toEqual({ username: 'u', password: 'from-docker-credential-ecr-login' });
  });

  test('a helper that is not built in and not on PATH is still an error', async () => {
    const provider = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({ '/h/.docker/config.json': JSON.stringify({ credsStore: 'pass' }) }),
      runHelper: async () => {
        throw Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
      },
      builtinHelpers: () => Promise.reject(new Error('the built-in helpers must not load')),
    });
    await expect(provider.get('r.example')).rejects.toThrow('docker-credential-pass: program not found on PATH');
  });

  test('a malformed file is a RegistryError naming the file, not its content', async () => {
    const provider = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({ '/h/.docker/config.json': '{"auths": "hunter22"' }),
    });
    const err = await provider.get('r.example').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toBe(
      'reading credentials for r.example from /h/.docker/config.json: it is not valid JSON',
    );
    expect((err as Error).message).not.toContain('hunter22');
  });

  test('credsStore: runs docker-credential-<name> get with the server on stdin', async () => {
    const calls: [string, string[], string][] = [];
    const runHelper: CredentialHelperRunner = async (program, args, input) => {
      calls.push([program, args, input]);
      if (input === 'https://index.docker.io/v1/')
        return { exitCode: 0, stdout: JSON.stringify({ ServerURL: input, Username: 'hub', Secret: 's' }), stderr: '' };
      if (input === 'tok.example')
        return { exitCode: 0, stdout: JSON.stringify({ Username: '<token>', Secret: 'refresh' }), stderr: '' };
      return { exitCode: 1, stdout: 'credentials not found in native keychain\n', stderr: '' };
    };
    const provider = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({
        '/h/.docker/config.json': JSON.stringify({
          credsStore: 'desktop',
          auths: { 'fallback.example': { auth: b64('f:g') } },
        }),
      }),
      runHelper,
    });
    expect(await provider.get('docker.io')).toEqual({ username: 'hub', password: 's' });
    expect(await provider.get('tok.example')).toEqual({ identityToken: 'refresh' });
    expect(await provider.get('nothing.example')).toBeUndefined();
    // The helper has nothing: the auths entry still counts.
    expect(await provider.get('fallback.example')).toEqual({ username: 'f', password: 'g' });
    expect(calls[0]).toEqual(['docker-credential-desktop', ['get'], 'https://index.docker.io/v1/']);
  });

  test('a missing helper program is a RegistryError with a hint', async () => {
    const runHelper: CredentialHelperRunner = async () => {
      throw Object.assign(new Error('spawn docker-credential-gone ENOENT'), { code: 'ENOENT' });
    };
    const provider = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({ '/h/.docker/config.json': JSON.stringify({ credHelpers: { 'r.example': 'gone' } }) }),
      runHelper,
    });
    await expect(provider.get('r.example')).rejects.toThrow(
      'reading credentials for r.example from docker-credential-gone: program not found on PATH',
    );
  });

  test('a failing helper is an error quoting its stderr, never its stdout', async () => {
    const runHelper: CredentialHelperRunner = async () => ({
      exitCode: 2,
      stdout: '{"Secret":"leak-me"}',
      stderr: 'keychain locked\nmore',
    });
    const provider = dockerConfigCredentials({
      env: {},
      homeDir: '/h',
      readFile: files({ '/h/.docker/config.json': JSON.stringify({ credsStore: 'osx' }) }),
      runHelper,
    });
    const err = await provider.get('r.example').catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'reading credentials for r.example from docker-credential-osx: exited with status 2: keychain locked',
    );
  });
});
