import { describe, expect, test } from 'vitest';
import { gitConfig, gitCredentials, gitFailureReason, gitRemote } from './context-git.js';

const url = new URL('https://git.example.com:8443/team/app.git');

describe('gitCredentials: Kaniko getGitAuth', () => {
  const auth = { username: 'url-user', password: 'url-pass' };
  test('GIT_TOKEN is the user name, with no password, before everything else', () => {
    expect(gitCredentials({ auth }, { GIT_TOKEN: 't', GIT_USERNAME: 'u', GIT_PASSWORD: 'p' })).toEqual({
      username: 't',
      password: '',
    });
  });
  test("GIT_USERNAME/GIT_PASSWORD before the URL's user information", () => {
    expect(gitCredentials({ auth }, { GIT_USERNAME: 'u', GIT_PASSWORD: 'p' })).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(gitCredentials({ auth }, {})).toEqual(auth);
    expect(gitCredentials({}, { GIT_TOKEN: '' })).toBeUndefined();
  });
});

test('gitRemote: https unless GIT_PULL_METHOD=http (other values mean https, as in Kaniko)', () => {
  expect(gitRemote({ url }, {}).href).toBe(url.href);
  expect(gitRemote({ url }, { GIT_PULL_METHOD: 'http' }).href).toBe('http://git.example.com:8443/team/app.git');
  expect(gitRemote({ url }, { GIT_PULL_METHOD: 'ssh' }).href).toBe(url.href);
});

test('gitConfig: the credentials as a header for the origin only; TLS opt-out only when asked', () => {
  const base = { caFile: '/t/ca.pem', insecureSkipTls: false, timeoutS: 30 };
  expect(gitConfig(url, base)).toEqual([
    ['http.sslCAInfo', '/t/ca.pem'],
    ['http.lowSpeedLimit', '1'],
    ['http.lowSpeedTime', '30'],
    ['protocol.file.allow', 'never'],
    ['protocol.ext.allow', 'never'],
  ]);
  const c = gitConfig(url, { ...base, insecureSkipTls: true, credentials: { username: 'u', password: 'p' } });
  expect(c).toContainEqual(['http.sslVerify', 'false']);
  expect(c).toContainEqual([
    'http.https://git.example.com:8443/.extraHeader',
    `Authorization: Basic ${Buffer.from('u:p').toString('base64')}`,
  ]);
});

describe("gitFailureReason: git's messages in a line", () => {
  const access = (why: string) => `fatal: unable to access '${url.href}/': ${why}\n`;
  test.each([
    [
      "fatal: could not read Username for 'https://git.example.com:8443': terminal prompts disabled\n",
      true,
      'authentication failed: the server refused the credentials',
    ],
    [access('The requested URL returned error: 401'), false, 'authentication failed: the repository needs credentials'],
    [
      `remote: Repository not found.\nfatal: repository '${url.href}/' not found\n`,
      true,
      `repository not found at ${url.href}`,
    ],
    ["fatal: couldn't find remote ref nope\n", true, 'ref nope not found in the repository'],
    [
      access('server certificate verification failed. CAfile: /tmp/kiln-git-x/ca-bundle.pem CRLfile: none'),
      true,
      'TLS: the certificate of git.example.com:8443 is not trusted (server certificate verification failed)',
    ],
    [
      access('Failed to connect to git.example.com port 8443: Connection refused'),
      true,
      'cannot reach git.example.com:8443: Failed to connect to git.example.com port 8443: Connection refused',
    ],
    [access('Operation too slow. Less than 1 bytes/sec transferred the last 30 seconds'), true, /^timed out/],
  ])('%s', (stderr, creds, reason) => {
    const got = gitFailureReason(stderr, url, creds).reason;
    if (typeof reason === 'string') expect(got).toBe(reason);
    else expect(got).toMatch(reason);
  });
});
