import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test, vi } from 'vitest';
import { issueCert, makeCa } from '../../../test/support/certs.js';
import { failure, files, helpers } from '../../../test/support/cloud-fakes.js';

/** One request google-auth-library sent: where, and its form body. */
interface Sent {
  url: string;
  form: Record<string, string>;
}

/** A fetch (what google-auth-library's Gaxios calls) answering from `route`, recording each request. */
function googleFetch(route: (req: Sent) => { status: number; body: unknown }): typeof fetch & { calls: Sent[] } {
  const calls: Sent[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    const form = new URLSearchParams(typeof body === 'string' || body instanceof URLSearchParams ? body : '');
    const url = input instanceof Request ? input.url : input.toString();
    const req = { url, form: Object.fromEntries(form) };
    calls.push(req);
    const r = route(req);
    return new Response(JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
  };
  return Object.assign(f, { calls });
}

describe('gcr: google-auth-library with the build environment', () => {
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
  const google = () =>
    googleFetch((req) => {
      expect(req.url).toBe('https://oauth2.example/token');
      const [h = '', c = '', sig = ''] = (req.form.assertion ?? '').split('.');
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).toMatchObject({
        iss: 'kiln@p.iam.gserviceaccount.com',
        aud: 'https://oauth2.example/token',
        scope: 'https://www.googleapis.com/auth/cloud-platform',
      });
      if (!verify('RSA-SHA256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(sig, 'base64url')))
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
      return { status: 200, body: { access_token: 'ya29.good', expires_in: 3599, token_type: 'Bearer' } };
    });

  test("a service-account key: an RS256 JWT exchanged at the key's token_uri", async () => {
    const h = helpers({
      env: { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' },
      readFile: files({ '/k.json': keyFile(pem) }),
      googleFetch: google(),
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
      googleFetch: google(),
    });
    const err = await failure(h.get('gcr', 'gcr.io', false));
    expect(err.message).toBe(
      'reading credentials for gcr.io from gcr (built into Kiln; no docker-credential-gcr on PATH): ' +
        'Google rejected the credentials from /k.json (service_account) (400 invalid_grant: Invalid JWT Signature.)',
    );
    expect(err.message).not.toMatch(/PRIVATE KEY|eyJ/);
  });

  test("gcloud's authorized_user file: a refresh-token exchange", async () => {
    const fetch = googleFetch((req) => {
      expect(req.url).toBe('https://oauth2.googleapis.com/token');
      expect(req.form).toMatchObject({
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
    const h = helpers({
      readFile: files({ '/h/.config/gcloud/application_default_credentials.json': adc }),
      googleFetch: fetch,
    });
    expect(await h.get('gcr', 'gcr.io', false)).toEqual({ username: 'oauth2accesstoken', password: 'ya29.user' });
  });

  test("an external_account (workload identity federation): the file's subject token exchanged at token_url through Kiln's fetch", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-gcp-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'oidc'), 'ci-oidc-Subject-T0ken');
    const config = JSON.stringify({
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/providers/kiln',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.example/v1/token',
      credential_source: { file: join(dir, 'oidc') },
    });
    const fetch = googleFetch((req) => {
      expect(req.url).toBe('https://sts.example/v1/token');
      expect(req.form).toMatchObject({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: 'ci-oidc-Subject-T0ken',
        scope: 'https://www.googleapis.com/auth/cloud-platform',
      });
      return { status: 200, body: { access_token: 'ya29.federated', expires_in: 3600, token_type: 'Bearer' } };
    });
    const h = helpers({
      env: { GOOGLE_APPLICATION_CREDENTIALS: '/wif.json' },
      readFile: files({ '/wif.json': config }),
      googleFetch: fetch,
    });
    expect(await h.get('gcr', 'gcr.io', false)).toEqual({ username: 'oauth2accesstoken', password: 'ya29.federated' });
    expect(fetch.calls).toHaveLength(1);
  });

  test('a token endpoint that never answers: a timeout per request, one retry, a message naming it', async () => {
    const calls: string[] = [];
    const hang = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push(input instanceof Request ? input.url : input.toString());
      const signal = init?.signal;
      // As fetch does: the signal's reason (a TimeoutError DOMException) is the rejection.
      return new Promise<Response>((_, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason as DOMException)),
      );
    }) as typeof fetch;
    const h = helpers({
      env: { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' },
      readFile: files({ '/k.json': keyFile(pem) }),
      googleFetch: hang,
      timeoutMs: 100,
    });
    const err = await failure(h.get('gcr', 'gcr.io', false));
    expect(err.message).toBe(
      'reading credentials for gcr.io from gcr (built into Kiln; no docker-credential-gcr on PATH): ' +
        "timed out after 0.1 s waiting for Google's endpoint https://oauth2.example/token (/k.json (service_account))",
    );
    expect(calls).toEqual(['https://oauth2.example/token', 'https://oauth2.example/token']);
  });

  test("the build's extra CAs reach the library's HTTPS: a token endpoint they sign is trusted, and only then", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-gcp-tls-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const ca = await makeCa(dir);
    const cert = await issueCert(ca, dir, 'oauth2', 'server');
    const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'ya29.tls', expires_in: 3600, token_type: 'Bearer' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const addr = server.address();
    const uri = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/token`;
    const key = JSON.stringify({ ...(JSON.parse(keyFile(pem)) as object), token_uri: uri });
    const inputs = { env: { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' }, readFile: files({ '/k.json': key }) };
    const trusted = helpers({ ...inputs, trustedCas: [ca.certPem] });
    expect(await trusted.get('gcr', 'gcr.io', false)).toEqual({ username: 'oauth2accesstoken', password: 'ya29.tls' });
    const err = await failure(helpers(inputs).get('gcr', 'gcr.io', false));
    expect(err.message).toMatch(
      new RegExp(
        `could not reach Google's endpoint ${uri} \\(/k\\.json \\(service_account\\)\\): TLS handshake failed`,
      ),
    );
  });

  test('credsStore does not send a Google token to a host that is not Google', async () => {
    const fetch = googleFetch(() => ({ status: 200, body: { access_token: 't' } }));
    expect(await helpers({ googleFetch: fetch }).get('gcr', 'docker.io', false)).toBeUndefined();
    expect(fetch.calls).toEqual([]);
  });

  test('an unanswering metadata server: a timeout naming it', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const addr = server.address();
    const host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    // gcp-metadata reads the host from process.env only.
    vi.stubEnv('GCE_METADATA_HOST', host);
    onTestFinished(() => void vi.unstubAllEnvs());
    const h = helpers({ env: { GCE_METADATA_HOST: host }, metadataTimeoutMs: 200 });
    const err = await failure(h.get('gcr', 'gcr.io', false));
    expect(err.message).toBe(
      'reading credentials for gcr.io from gcr (built into Kiln; no docker-credential-gcr on PATH): ' +
        `timed out after 0.2 s waiting for the GCE metadata server at http://${host}/ (no GOOGLE_APPLICATION_CREDENTIALS set)`,
    );
    expect(err.hint).toContain('GCE_METADATA_HOST');
  });
});

test('off Google Cloud with no credentials file: anonymous, so public images still pull; a named metadata server that fails is an error', async () => {
  // METADATA_SERVER_DETECTION=none stands for ADC's detection finding no Google Cloud (which
  // would ask 169.254.169.254: tests reach nothing beyond 127.0.0.1).
  const offCloud = helpers({ env: { METADATA_SERVER_DETECTION: 'none' } });
  expect(await offCloud.get('gcr', 'gcr.io', false)).toBeUndefined();
  vi.stubEnv('GCE_METADATA_HOST', '127.0.0.1:9');
  onTestFinished(() => void vi.unstubAllEnvs());
  const named = helpers({ env: { GCE_METADATA_HOST: '127.0.0.1:9' } });
  expect((await failure(named.get('gcr', 'gcr.io', false))).message).toMatch(
    /GCE metadata server at http:\/\/127\.0\.0\.1:9\): connection refused/,
  );
});
