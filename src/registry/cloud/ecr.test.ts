import { Buffer } from 'node:buffer';
import { describe, expect, test } from 'vitest';
import { failure, fakeFetch, files, helpers } from '../../../test/support/cloud-fakes.js';
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

  test('IRSA: web identity at STS, then a signed GetAuthorizationToken with the session token; cached per build', async () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const fetch = fakeFetch((req) => {
      if (req.url.startsWith('https://sts.eu-west-1.amazonaws.com')) {
        const form = new URLSearchParams(req.body);
        expect(form.get('Action')).toBe('AssumeRoleWithWebIdentity');
        expect(form.get('WebIdentityToken')).toBe('projected-jwt');
        expect(form.get('RoleArn')).toBe('arn:aws:iam::123456789012:role/kiln');
        return {
          status: 200,
          body: '<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey><SessionToken>temp-session</SessionToken></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>',
        };
      }
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
    const h = helpers({
      env: {
        AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/kiln',
        AWS_REGION: 'eu-west-1',
      },
      readFile: files({ '/var/run/secrets/eks.amazonaws.com/serviceaccount/token': 'projected-jwt\n' }),
      fetch,
    });
    expect(await h.get('ecr-login', registry, false)).toEqual({ username: 'AWS', password: 'ecr-pw' });
    expect(await h.get('ecr-login', registry, false)).toEqual({ username: 'AWS', password: 'ecr-pw' });
    expect(fetch.calls).toHaveLength(2);
  });

  test('the shared credentials file, profile AWS_PROFILE', async () => {
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
    const h = helpers({
      env: { AWS_PROFILE: 'ci' },
      readFile: files({
        '/h/.aws/credentials':
          '[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = x\n[ci]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-Secr3t\n',
      }),
      fetch,
    });
    const err = await failure(h.get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false));
    expect(err.message).toBe(
      'reading credentials for 123456789012.dkr.ecr.us-east-1.amazonaws.com from ecr-login (built into Kiln; no docker-credential-ecr-login on PATH): ' +
        'AWS rejected the credentials from profile ci of /h/.aws/credentials (400 UnrecognizedClientException: The security token included in the request is invalid.)',
    );
    expect(err.hint).toContain('ecr:GetAuthorizationToken');
    expect(`${err.message} ${err.hint}`).not.toContain('file-Secr3t');
  });

  test('EKS Pod Identity: container credentials with the authorization token file', async () => {
    const fetch = fakeFetch((req) => {
      if (req.url === 'http://169.254.170.23/v1/credentials') {
        expect(req.headers?.authorization).toBe('pod-identity-token');
        return { status: 200, body: { AccessKeyId: 'ASIAPOD', SecretAccessKey: 'pod-secret', Token: 'pod-session' } };
      }
      expect(req.headers?.authorization).toContain('Credential=ASIAPOD/');
      expect(req.headers?.['x-amz-security-token']).toBe('pod-session');
      return {
        status: 200,
        body: { authorizationData: [{ authorizationToken: Buffer.from('AWS:pw').toString('base64') }] },
      };
    });
    const h = helpers({
      env: {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE:
          '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
      },
      readFile: files({
        '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token': 'pod-identity-token',
      }),
      fetch,
    });
    expect(await h.get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false)).toEqual({
      username: 'AWS',
      password: 'pw',
    });
  });

  test('no AWS credentials anywhere: says where it looked, and why instance metadata failed', async () => {
    const fetch = fakeFetch(() => ({ status: 500, body: '' }));
    const err = await failure(
      helpers({ fetch }).get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false),
    );
    expect(err.message).toMatch(
      /no AWS credentials found \(looked at AWS_ACCESS_KEY_ID.*and EC2 instance metadata: EC2 instance metadata at http:\/\/169\.254\.169\.254\/? refused a session token \(500\)\)$/,
    );
    const off = await failure(
      helpers({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, fetch }).get(
        'ecr-login',
        '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        false,
      ),
    );
    expect(off.message).toMatch(/EC2 instance metadata: AWS_EC2_METADATA_DISABLED is true\)$/);
  });

  test('EC2 instance metadata (IMDSv2): a session token, then the role and its credentials', async () => {
    const fetch = fakeFetch((req) => {
      if (req.url === 'http://169.254.169.254/latest/api/token') {
        expect(req.method).toBe('PUT');
        return { status: 200, body: 'imds-session' };
      }
      if (req.url.startsWith('http://169.254.169.254/')) {
        expect(req.headers?.['x-aws-ec2-metadata-token']).toBe('imds-session');
        if (req.url.endsWith('/security-credentials/')) return { status: 200, body: 'runner-role' };
        expect(req.url).toBe('http://169.254.169.254/latest/meta-data/iam/security-credentials/runner-role');
        return { status: 200, body: { AccessKeyId: 'ASIAEC2', SecretAccessKey: 'ec2-secret', Token: 'ec2-session' } };
      }
      expect(req.headers?.authorization).toContain('Credential=ASIAEC2/');
      return {
        status: 400,
        body: { __type: 'AccessDeniedException', message: 'not authorized to perform ecr:GetAuthorizationToken' },
      };
    });
    const err = await failure(
      helpers({ fetch }).get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false),
    );
    expect(err.message).toMatch(
      /AWS rejected the credentials from the instance profile role runner-role of EC2 instance metadata at http:\/\/169\.254\.169\.254\/ \(400 AccessDeniedException: not authorized/,
    );
    expect(err.message).not.toMatch(/ec2-secret|ec2-session|imds-session/);
  });
});
