import { generateKeyPairSync, verify } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import { failure, fakeFetch, files, helpers } from '../../../test/support/cloud-fakes.js';
import { BuiltinHelpers } from './builtin-helpers.js';
import { CloudError } from './http.js';

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

  test('an authorized_user file: a refresh-token exchange', async () => {
    const fetch = fakeFetch((req) => {
      expect(req.url).toBe('https://oauth2.googleapis.com/token');
      expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
        grant_type: 'refresh_token',
        client_id: 'cid',
        client_secret: 'csecret',
        refresh_token: 'rtoken',
      });
      return { status: 200, body: { access_token: 'ya29.user', expires_in: 3599 } };
    });
    const adc = JSON.stringify({
      type: 'authorized_user',
      client_id: 'cid',
      client_secret: 'csecret',
      refresh_token: 'rtoken',
    });
    const h = helpers({ readFile: files({ '/h/.config/gcloud/application_default_credentials.json': adc }), fetch });
    expect(await h.get('gcr', 'gcr.io', false)).toEqual({ username: 'oauth2accesstoken', password: 'ya29.user' });
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

test('off Google Cloud with no credentials file: anonymous, so public images still pull; a named metadata server that fails is an error', async () => {
  // As the real fetch reports the DNS failure a machine outside Google Cloud gets.
  const unreachable = fakeFetch((req) => {
    throw new CloudError(`could not reach ${req.what}: the host name was not found`, 'network');
  });
  const offCloud = helpers({ env: {}, readFile: files({}), fetch: unreachable });
  expect(await offCloud.get('gcr', 'gcr.io', false)).toBeUndefined();
  const named = helpers({ env: { GCE_METADATA_HOST: '127.0.0.1:9' }, readFile: files({}), fetch: unreachable });
  expect((await failure(named.get('gcr', 'gcr.io', false))).message).toMatch(
    /GCE metadata server at http:\/\/127\.0\.0\.1:9/,
  );
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
