import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFinished, test, vi } from 'vitest';
import { issueCert, makeCa } from '../../../test/support/certs.js';
import { failure, fakeFetch, files, helpers } from '../../../test/support/cloud-fakes.js';
import { startFakeAad, startFakeImds, type FakeAad } from '../../../test/support/fake-aad.js';
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

/** A client assertion MSAL signs with a certificate: a JWT whose header names the certificate's thumbprint. */
function certAssertion(jwt: string | null): boolean {
  const header = JSON.parse(Buffer.from(jwt?.split('.')[0] ?? '', 'base64url').toString() || '{}') as object;
  return 'x5t' in header || 'x5t#S256' in header;
}

describe('acr-env', () => {
  // Azure AD is a FAKE over HTTPS (test/support/fake-aad.ts): @azure/identity's MSAL insists on an
  // https authority, and the build's extra CAs (trustedCas) must reach it.
  let aad: FakeAad;
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-acr-unit-'));
    aad = await startFakeAad(dir, (form, tenant) => {
      const ok =
        tenant === 't1' &&
        form.get('client_id') === 'app' &&
        (form.get('client_secret') === 'az-Right-secret' ||
          form.get('client_assertion') === 'federated-jwt' ||
          certAssertion(form.get('client_assertion')));
      if (ok) return { status: 200, body: { access_token: 'aad-arm-token', expires_in: 3600, token_type: 'Bearer' } };
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x',
          error_codes: [7000215],
        },
      };
    });
  });
  afterAll(async () => {
    await aad?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const acrExchange = fakeFetch((req) => {
    expect(req.url).toBe('https://kiln.azurecr.io/oauth2/exchange');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      grant_type: 'access_token',
      service: 'kiln.azurecr.io',
      tenant: 't1',
      access_token: 'aad-arm-token',
    });
    return { status: 200, body: { refresh_token: 'acr-refresh' } };
  });
  const azure = (env: Record<string, string>, readFile = files({})) =>
    helpers({
      env: { AZURE_TENANT_ID: 't1', AZURE_CLIENT_ID: 'app', AZURE_AUTHORITY_HOST: aad.authority, ...env },
      readFile,
      fetch: acrExchange,
      trustedCas: [aad.ca.certPem],
    });

  test('a wrong client secret: Azure AD rejected it, the secret nowhere', async () => {
    const err = await failure(
      azure({ AZURE_CLIENT_SECRET: 'az-Wr0ng-secret' }).get('acr-env', 'kiln.azurecr.io', false),
    );
    expect(err.message).toBe(
      'reading credentials for kiln.azurecr.io from acr-env (built into Kiln; no docker-credential-acr-env on PATH): ' +
        'Azure AD rejected the credentials of AZURE_CLIENT_ID app with AZURE_CLIENT_SECRET (401 invalid_client: AADSTS7000215: Invalid client secret provided.)',
    );
    expect(err.message).not.toContain('az-Wr0ng-secret');
  });

  test('a client secret: the ARM-scoped token is exchanged for a refresh token, used as identity token', async () => {
    const h = azure({ AZURE_CLIENT_SECRET: 'az-Right-secret' });
    expect(await h.get('acr-env', 'kiln.azurecr.io', false)).toEqual({ identityToken: 'acr-refresh' });
    expect(aad.grants.at(-1)?.get('scope')).toBe('https://management.azure.com/.default');
  });

  test('workload identity: the federated token is the client assertion; the refresh token is an identity token', async () => {
    const h = azure(
      { AZURE_FEDERATED_TOKEN_FILE: '/var/run/azure/token' },
      files({ '/var/run/azure/token': 'federated-jwt\n' }),
    );
    expect(await h.get('acr-env', 'kiln.azurecr.io', false)).toEqual({ identityToken: 'acr-refresh' });
    expect(aad.grants.at(-1)?.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
  });

  test('a client certificate (new with the SDK): MSAL signs the assertion with it', async () => {
    const ca = await makeCa(dir, 'sp-ca', 'rsa');
    const cert = await issueCert(ca, dir, 'sp', 'client', 'rsa');
    const pem = join(dir, 'sp-bundle.pem');
    await writeFile(pem, `${cert.certPem}${cert.keyPem}`);
    const h = azure({ AZURE_CLIENT_CERTIFICATE_PATH: pem });
    expect(await h.get('acr-env', 'kiln.azurecr.io', false)).toEqual({ identityToken: 'acr-refresh' });
    expect(aad.grants.at(-1)?.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
  });

  test('an Azure AD whose certificate the build does not trust is unreachable, not a refusal', async () => {
    const h = helpers({
      env: {
        AZURE_TENANT_ID: 't1',
        AZURE_CLIENT_ID: 'app',
        AZURE_CLIENT_SECRET: 'az-Right-secret',
        AZURE_AUTHORITY_HOST: aad.authority,
      },
      fetch: acrExchange,
    });
    const err = await failure(h.get('acr-env', 'kiln.azurecr.io', false));
    expect(err.message).toMatch(/from acr-env .*: could not reach Azure AD at https:\/\/127\.0\.0\.1:\d+\//);
    expect(err.hint).toMatch(/AZURE_AUTHORITY_HOST/);
  });

  test('a managed identity (new with the SDK): the IMDS token is exchanged', async () => {
    const imds = await startFakeImds(() => 'aad-arm-token');
    onTestFinished(() => imds.stop());
    // MSAL reads the IMDS override from process.env only.
    vi.stubEnv('AZURE_POD_IDENTITY_AUTHORITY_HOST', imds.url);
    onTestFinished(() => void vi.unstubAllEnvs());
    const h = helpers({ env: { AZURE_TENANT_ID: 't1' }, fetch: acrExchange });
    expect(await h.get('acr-env', 'kiln.azurecr.io', false)).toEqual({ identityToken: 'acr-refresh' });
    expect(imds.resources).toEqual(['https://management.azure.com']);
  });

  test('a secret without a tenant names the missing variable', async () => {
    const err = await failure(helpers({ env: { AZURE_CLIENT_SECRET: 's' } }).get('acr-env', 'kiln.azurecr.io', false));
    expect(err.message).toMatch(/: AZURE_TENANT_ID is not set/);
  });
});
