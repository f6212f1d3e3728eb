/**
 * An Azure blob read with an Azure AD token (no account key): a local server plays Azure AD's
 * token endpoint and the blob endpoint (a FAKE; Azurite accepts OAuth only over HTTPS).
 */
import { createServer, type Server } from 'node:http';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Redactor } from '../redact.js';
import { openAzureBlob } from './azure-blob.js';
import { BucketFailure } from './get.js';

const SECRET = 'client-secret-0123456789';
const TOKEN = 'aad-storage-token-0123456789';
let server: Server;
let base = '';
const seen: { scope?: string | null; version?: string } = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      let body = '';
      for await (const c of req) body += String(c);
      if (req.method === 'POST' && req.url === '/tenant/oauth2/v2.0/token') {
        const form = new URLSearchParams(body);
        seen.scope = form.get('scope');
        const ok = form.get('client_id') === 'app' && form.get('client_secret') === SECRET;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify(
            ok
              ? { access_token: TOKEN, expires_in: 3600 }
              : {
                  error: 'invalid_client',
                  error_description: `AADSTS7000215: Invalid client secret ${form.get('client_secret')}.\nTrace ID: 1`,
                },
          ),
        );
      }
      seen.version = String(req.headers['x-ms-version']);
      if (req.headers.authorization !== `Bearer ${TOKEN}` || req.url !== '/acct/c/dir/b.tar.gz') {
        res.writeHead(403, { 'content-type': 'application/xml' });
        return void res.end('<Error><Code>AuthorizationPermissionMismatch</Code><Message>No.</Message></Error>');
      }
      res.end('blob bytes');
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const envOf = (secret: string): Record<string, string> => ({
  AZURE_TENANT_ID: 'tenant',
  AZURE_CLIENT_ID: 'app',
  AZURE_CLIENT_SECRET: secret,
  AZURE_AUTHORITY_HOST: `${base}/`,
  AZURE_STORAGE_CONNECTION_STRING: `AccountName=acct;BlobEndpoint=${base}/acct`,
});
const get = { signal: new AbortController().signal };
const failure = (p: Promise<unknown>): Promise<BucketFailure> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as BucketFailure,
  );

test('without an account key, the service principal of the environment gets a storage-scoped token', async () => {
  const body = await openAzureBlob(
    { account: 'acct', container: 'c', blob: 'dir/b.tar.gz' },
    { env: envOf(SECRET), homeDir: '/nonexistent', redactor: new Redactor() },
    get,
  );
  expect(await text(body)).toBe('blob bytes');
  expect(seen).toEqual({ scope: 'https://storage.azure.com/.default', version: '2021-12-02' });
});

test('a token the container refuses, or a secret Azure AD rejects, is one line without the token or secret', async () => {
  const denied = await failure(
    openAzureBlob(
      { account: 'acct', container: 'c', blob: 'other' },
      { env: envOf(SECRET), homeDir: '/nonexistent', redactor: new Redactor() },
      get,
    ),
  );
  expect(denied).toBeInstanceOf(BucketFailure);
  expect(denied.message).toBe(
    'Azure storage account acct denied access to container c with the Azure AD token of AZURE_CLIENT_ID app with AZURE_CLIENT_SECRET (403 AuthorizationPermissionMismatch: No.)',
  );
  expect(denied.hint).toMatch(/Storage Blob Data Reader/);
  const wrong = 'wrong-secret-0123456789';
  const rejected = await failure(
    openAzureBlob(
      { account: 'acct', container: 'c', blob: 'dir/b.tar.gz' },
      { env: envOf(wrong), homeDir: '/nonexistent', redactor: new Redactor() },
      get,
    ),
  );
  expect(rejected.message).toMatch(
    /^Azure AD rejected the credentials of AZURE_CLIENT_ID app with AZURE_CLIENT_SECRET \(401 invalid_client: AADSTS7000215/,
  );
  expect(rejected.message).not.toContain(wrong);
  expect(rejected.message).not.toContain(TOKEN);
});
