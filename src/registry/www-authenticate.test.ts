import { describe, expect, test } from 'vitest';
import { challengeScopes, parseWwwAuthenticate, pickChallenge } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  test.each([
    [
      'Docker Hub bearer',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/busybox:pull',
          },
        },
      ],
    ],
    ['htpasswd basic', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'comma inside a quoted scope',
      'Bearer realm="https://r/token",scope="repository:a:pull,push",service="s"',
      [{ scheme: 'bearer', params: { realm: 'https://r/token', scope: 'repository:a:pull,push', service: 's' } }],
    ],
    [
      'case-insensitive scheme and names, spaces around =',
      'BEARER Realm = "x" , Service=y',
      [{ scheme: 'bearer', params: { realm: 'x', service: 'y' } }],
    ],
    ['escaped quote', 'Basic realm="a \\"b\\" c"', [{ scheme: 'basic', params: { realm: 'a "b" c' } }]],
    [
      'two challenges in one header',
      'Negotiate abc==, Basic realm="r"',
      [
        { scheme: 'negotiate', params: { token68: 'abc==' } },
        { scheme: 'basic', params: { realm: 'r' } },
      ],
    ],
    [
      'two challenges with params',
      'Bearer realm="t",service="s", Basic realm="r"',
      [
        { scheme: 'bearer', params: { realm: 't', service: 's' } },
        { scheme: 'basic', params: { realm: 'r' } },
      ],
    ],
    ['bare scheme', 'Basic', [{ scheme: 'basic', params: {} }]],
    ['unterminated quote runs to the end', 'Basic realm="oops', [{ scheme: 'basic', params: { realm: 'oops' } }]],
    ['empty', '', []],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });

  test('several header lines', () => {
    expect(parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual([
      'basic',
      'bearer',
    ]);
  });

  test('missing header', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
  });

  test('garbage does not loop forever', () => {
    expect(() => parseWwwAuthenticate('=,=,"",;;; @@')).not.toThrow();
  });
});

describe('pickChallenge', () => {
  test('prefers bearer, ignores unknown schemes', () => {
    expect(pickChallenge(parseWwwAuthenticate('Negotiate x, Basic realm="r", Bearer realm="t"'))?.scheme).toBe(
      'bearer',
    );
    expect(pickChallenge(parseWwwAuthenticate('Negotiate x, Basic realm="r"'))?.scheme).toBe('basic');
    expect(pickChallenge(parseWwwAuthenticate('Negotiate x'))).toBeUndefined();
  });
});

test('challengeScopes splits on spaces', () => {
  const [ch] = parseWwwAuthenticate('Bearer realm="t",scope="repository:a:pull repository:b:pull,push"');
  expect(challengeScopes(ch)).toEqual(['repository:a:pull', 'repository:b:pull,push']);
  expect(challengeScopes(undefined)).toEqual([]);
});
