import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, onTestFinished, test, vi } from 'vitest';
import { issueCert, makeCa } from '../../../test/support/certs.js';
import { failure, fakeFetch, files, helpers } from '../../../test/support/cloud-fakes.js';
import { startFakeAad, startFakeImds, type FakeAad } from '../../../test/support/fake-aad.js';

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
