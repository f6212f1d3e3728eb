import { describe, expect, test } from 'vitest';
import { failure, fakeFetch, files, helpers } from '../../../test/support/cloud-fakes.js';

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
