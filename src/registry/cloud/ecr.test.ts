import { Buffer } from 'node:buffer';
import { describe, expect, test } from 'vitest';
import { failure, fakeFetch, helpers } from '../../../test/support/cloud-fakes.js';
import { AwsChainFailed } from './aws-chain.js';
import { parseEcrHost } from './ecr.js';

describe('ecr-login', () => {
  test.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', { account: '123456789012', region: 'eu-west-1', fips: false }],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { account: '123456789012', region: 'cn-north-1', fips: false },
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      { account: '123456789012', region: 'us-gov-west-1', fips: true },
    ],
    ['123456789012.dkr-ecr.us-east-1.on.aws', { account: '123456789012', region: 'us-east-1', fips: false }],
    ['docker.io', undefined],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example', undefined],
  ])('parseEcrHost(%s)', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
  });

  test('a host that is not ECR gets no credentials and no request, as the real helper', async () => {
    const fetch = fakeFetch(() => ({ status: 500, body: {} }));
    const h = helpers({ env: { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'sk' }, fetch });
    expect(await h.get('ecr-login', 'docker.io', false)).toBeUndefined();
    expect(fetch.calls).toEqual([]);
  });

  test('temporary credentials of the SDK chain sign GetAuthorizationToken with their session token; cached per build', async () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    let asked = 0;
    const awsCredentials = async () => {
      asked += 1;
      return {
        accessKeyId: 'ASIATEMP',
        secretAccessKey: 'temp-secret',
        sessionToken: 'temp-session',
        $source: { CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: 'h' },
      };
    };
    const fetch = fakeFetch((req) => {
      expect(req.url).toBe('https://api.ecr.eu-west-1.amazonaws.com/');
      expect(req.headers?.['x-amz-security-token']).toBe('temp-session');
      expect(req.headers?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=ASIATEMP\/\d{8}\/eu-west-1\/ecr\/aws4_request, /,
      );
      expect(JSON.parse(req.body ?? '')).toEqual({ registryIds: ['123456789012'] });
      return {
        status: 200,
        body: {
          authorizationData: [{ authorizationToken: Buffer.from('AWS:ecr-pw').toString('base64'), expiresAt: 4e9 }],
        },
      };
    });
    const h = helpers({ env: { AWS_REGION: 'eu-west-1' }, fetch, awsCredentials });
    expect(await h.get('ecr-login', registry, false)).toEqual({ username: 'AWS', password: 'ecr-pw' });
    expect(await h.get('ecr-login', registry, false)).toEqual({ username: 'AWS', password: 'ecr-pw' });
    expect(fetch.calls).toHaveLength(1);
    expect(asked).toBe(1);
  });

  test.each([
    [{ CREDENTIALS_ENV_VARS: 'g' }, 'environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'],
    [{ CREDENTIALS_PROFILE: 'n' }, 'profile ci of the shared config and credentials files'],
    [{ CREDENTIALS_PROFILE_PROCESS: 'v', CREDENTIALS_PROCESS: 'w' }, 'the credential_process of profile ci'],
    [
      { CREDENTIALS_PROFILE_SOURCE_PROFILE: 'o', CREDENTIALS_STS_ASSUME_ROLE: 'i' },
      'the role_arn of profile ci, assumed at STS',
    ],
    [{ CREDENTIALS_PROFILE_SSO: 'r', CREDENTIALS_SSO: 's' }, 'the SSO session of profile ci'],
    [{ CREDENTIALS_HTTP: 'z' }, 'the container credentials endpoint'],
    [{}, 'the AWS default credential chain'],
  ])('a refusal names where the SDK found the credentials (%j)', async ($source, source) => {
    const fetch = fakeFetch((req) => {
      expect(req.headers?.authorization).toContain('Credential=AKIDFILE/');
      return {
        status: 400,
        body: {
          __type: 'com.amazon.coral.service#UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        },
      };
    });
    const awsCredentials = async () => ({ accessKeyId: 'AKIDFILE', secretAccessKey: 'file-Secr3t', $source });
    const h = helpers({ env: { AWS_PROFILE: 'ci' }, fetch, awsCredentials });
    const err = await failure(h.get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false));
    expect(err.message).toBe(
      'reading credentials for 123456789012.dkr.ecr.us-east-1.amazonaws.com from ecr-login (built into Kiln; no docker-credential-ecr-login on PATH): ' +
        `AWS rejected the credentials from ${source} (400 UnrecognizedClientException: The security token included in the request is invalid.)`,
    );
    expect(err.hint).toContain('ecr:GetAuthorizationToken');
    expect(`${err.message} ${err.hint}`).not.toContain('file-Secr3t');
  });

  test('the chain finds nothing: says where it looked, with the setup hint; a failing source is named, redacted', async () => {
    const fetch = fakeFetch(() => ({ status: 500, body: '' }));
    const none = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    };
    const err = await failure(
      helpers({ fetch, awsCredentials: none }).get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false),
    );
    expect(err.message).toMatch(
      /: no AWS credentials found \(the AWS SDK default chain looked at AWS_ACCESS_KEY_ID.*EC2 instance metadata\)$/,
    );
    expect(err.hint).toMatch(/^give the build AWS credentials/);
    const skipped = async () => {
      const sdk = Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
      throw new AwsChainFailed(sdk, [
        'AWS_PROFILE is set, skipping fromEnv provider.',
        'Profile ci could not be found.',
      ]);
    };
    const named = await failure(
      helpers({ fetch, awsCredentials: skipped }).get(
        'ecr-login',
        '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        false,
      ),
    );
    expect(named.message).toMatch(/ and EC2 instance metadata: Profile ci could not be found\.\)$/);
    const refused = async () => {
      throw Object.assign(new Error('Not authorized to perform sts:AssumeRole'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
    };
    const denied = await failure(
      helpers({ fetch, awsCredentials: refused }).get(
        'ecr-login',
        '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        false,
      ),
    );
    expect(denied.message).toMatch(
      /: AWS refused the credentials of the build \(403 AccessDenied: Not authorized to perform sts:AssumeRole\)$/,
    );
    expect(fetch.calls).toEqual([]);
  });
});
