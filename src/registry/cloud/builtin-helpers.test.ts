import { generateKeyPairSync, verify } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import { RegistryError } from '../../errors.js';
import { BuiltinHelpers, type BuiltinHelperOptions } from './builtin-helpers.js';
import { parseEcrHost } from './ecr.js';
import type { CloudFetch, CloudRequest } from './http.js';

const files =
  (content: Record<string, string>) =>
  async (p: string): Promise<string> => {
    const c = content[p];
    if (c === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return c;
  };

/** A fetch answering from `route`, recording each request. */
function fakeFetch(
  route: (req: CloudRequest) => { status: number; body: unknown },
): CloudFetch & { calls: CloudRequest[] } {
  const calls: CloudRequest[] = [];
  const f = async (req: CloudRequest) => {
    calls.push(req);
    const r = route(req);
    return { status: r.status, text: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
  };
  return Object.assign(f, { calls });
}

const helpers = (o: Partial<BuiltinHelperOptions>) =>
  new BuiltinHelpers({ env: {}, homeDir: '/h', readFile: files({}), ...o });

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

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

  test('no AWS credentials anywhere: says where it looked', async () => {
    const err = await failure(helpers({}).get('ecr-login', '123456789012.dkr.ecr.us-east-1.amazonaws.com', false));
    expect(err.message).toMatch(/no AWS credentials found \(looked at AWS_ACCESS_KEY_ID/);
  });
});

describe('gcr', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const keyFile = (key: string) =>
    JSON.stringify({
      type: 'service_account',
      client_email: 'kiln@p.iam.gserviceaccount.com',
      private_key: key,
      token_uri: 'https://oauth2.example/token',
    });
  /** Google's token endpoint: checks the JWT's RS256 signature against the service account's public key. */
  const google = fakeFetch((req) => {
    const jwt = new URLSearchParams(req.body).get('assertion') ?? '';
    const [h = '', c = '', sig = ''] = jwt.split('.');
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'kiln@p.iam.gserviceaccount.com', aud: 'https://oauth2.example/token' });
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(sig, 'base64url')))
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    return { status: 200, body: { access_token: 'ya29.good', expires_in: 3599 } };
  });

  test('a service-account key: an RS256 JWT exchanged for an access token', async () => {
    const h = helpers({
      env: { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' },
      readFile: files({ '/k.json': keyFile(pem) }),
      fetch: google,
    });
    expect(await h.get('gcr', 'eu.gcr.io', false)).toEqual({ username: 'oauth2accesstoken', password: 'ya29.good' });
    expect(await h.get('gcloud', 'europe-docker.pkg.dev', false)).toEqual({
      username: 'oauth2accesstoken',
      password: 'ya29.good',
    });
  });

  test('a key Google refuses: a clear message, with neither key nor JWT in it', async () => {
    const h = helpers({
      env: { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' },
      readFile: files({ '/k.json': keyFile(other) }),
      fetch: google,
    });
    const err = await failure(h.get('gcr', 'gcr.io', false));
    expect(err.message).toBe(
      'reading credentials for gcr.io from gcr (built into Kiln; no docker-credential-gcr on PATH): ' +
        'Google rejected the credentials from /k.json (service_account) (400 invalid_grant: Invalid JWT Signature.)',
    );
    expect(err.message).not.toMatch(/PRIVATE KEY|eyJ/);
  });

  test('credsStore does not send a Google token to a host that is not Google', async () => {
    const fetch = fakeFetch(() => ({ status: 200, body: { access_token: 't' } }));
    expect(await helpers({ fetch }).get('gcr', 'docker.io', false)).toBeUndefined();
    expect(fetch.calls).toEqual([]);
  });

  test('an unanswering metadata server: a timeout naming it', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const addr = server.address();
    const host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const h = new BuiltinHelpers({
      env: { GCE_METADATA_HOST: host },
      homeDir: '/h',
      readFile: files({}),
      metadataTimeoutMs: 200,
    });
    const err = await failure(h.get('gcr', 'gcr.io', false));
    expect(err.message).toBe(
      'reading credentials for gcr.io from gcr (built into Kiln; no docker-credential-gcr on PATH): ' +
        `timed out after 0.2 s waiting for the GCE metadata server at http://${host}/ (no GOOGLE_APPLICATION_CREDENTIALS set)`,
    );
    expect(err.hint).toContain('GCE_METADATA_HOST');
  });
});

describe('acr-env', () => {
  test('a wrong client secret: Azure AD rejected it, the secret nowhere', async () => {
    const fetch = fakeFetch((req) => {
      expect(req.url).toBe('https://login.microsoftonline.com/t1/oauth2/v2.0/token');
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
        },
      };
    });
    const h = helpers({
      env: { AZURE_TENANT_ID: 't1', AZURE_CLIENT_ID: 'app', AZURE_CLIENT_SECRET: 'az-Wr0ng-secret' },
      fetch,
    });
    const err = await failure(h.get('acr-env', 'kiln.azurecr.io', false));
    expect(err.message).toBe(
      'reading credentials for kiln.azurecr.io from acr-env (built into Kiln; no docker-credential-acr-env on PATH): ' +
        'Azure AD rejected the credentials of AZURE_CLIENT_ID app with AZURE_CLIENT_SECRET (401 invalid_client: AADSTS7000215: Invalid client secret provided.)',
    );
    expect(err.message).not.toContain('az-Wr0ng-secret');
  });

  test('workload identity: the federated token is the client assertion; the refresh token is an identity token', async () => {
    const fetch = fakeFetch((req) => {
      const form = new URLSearchParams(req.body);
      if (req.url.endsWith('/oauth2/exchange')) {
        expect(req.url).toBe('https://kiln.azurecr.io/oauth2/exchange');
        expect(Object.fromEntries(form)).toEqual({
          grant_type: 'access_token',
          service: 'kiln.azurecr.io',
          tenant: 't1',
          access_token: 'aad',
        });
        return { status: 200, body: { refresh_token: 'acr-refresh' } };
      }
      expect(form.get('client_assertion')).toBe('federated-jwt');
      return { status: 200, body: { access_token: 'aad', expires_in: 3600 } };
    });
    const h = helpers({
      env: { AZURE_TENANT_ID: 't1', AZURE_CLIENT_ID: 'app', AZURE_FEDERATED_TOKEN_FILE: '/var/run/azure/token' },
      readFile: files({ '/var/run/azure/token': 'federated-jwt' }),
      fetch,
    });
    expect(await h.get('acr-env', 'kiln.azurecr.io', false)).toEqual({ identityToken: 'acr-refresh' });
  });

  test('missing settings name the variable', async () => {
    const err = await failure(helpers({}).get('acr-env', 'kiln.azurecr.io', false));
    expect(err.message).toMatch(/: AZURE_TENANT_ID is not set/);
  });
});
