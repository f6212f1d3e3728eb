/**
 * Issue 13 item 3: config.json naming `ecr-login`, `gcr` or `acr-env` works without any
 * `docker-credential-*` program, through Kiln's built-in helpers. Each test fakes the cloud on
 * 127.0.0.1 (ECR's API, the GCE metadata server, Azure AD over HTTPS and ACR's `/oauth2/exchange`), the fake
 * issues a token, and the real registry accepts only that token: htpasswd Basic auth for ECR
 * (`AWS`) and GCR (`oauth2accesstoken`), and for ACR the token server, which takes the exchanged
 * refresh token as an identity token (ACR's own flow). The executor pulls its base and pushes
 * with only config.json and the environment pointing at the fakes.
 */
import { Buffer } from 'node:buffer';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { signV4, sha256Hex } from '../../src/registry/cloud/aws-sigv4.js';
import { pushBusybox, type BaseImage } from '../support/busybox.js';
import { issueCert, makeCa } from '../support/certs.js';
import { runExecutor, tempDir } from '../support/executor.js';
import { startFakeAad, type FakeAad } from '../support/fake-aad.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { skopeo } from '../support/run.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

const ECR_PASSWORD = 'ecr-Passw0rd-from-fake-7qk';
const GCP_TOKEN = 'ya29.gcp-T0ken-from-fake-3mv';
const AWS_KEY = 'AKIDKILNTEST';
const AWS_SECRET = 'aws-Secr3t-Key-9xw';
const AAD_TOKEN = 'aad-Access-T0ken-5hj';
const AZ_SECRET = 'az-Client-Secr3t-2pd';
const ACR_REFRESH = 'acr-Refresh-T0ken-8zn';
const TENANT = 'tenant-1234';
const USER = 'builder';
const PASSWORD = 'Builder-Passw0rd-4ty';

let dir: string;
let basic: TestRegistry;
let basicBase: BaseImage;
let hub: TestRegistry;
let tokens: TokenServer;
const servers: Server[] = [];
let ecr: string;
let gce: string;
let aad: FakeAad;
let acrHost: string;
let acrBase: BaseImage;
const ecrCalls: { authorization: string; target: string; verified: boolean }[] = [];

/** A server on 127.0.0.1 whose handler gets each request's whole body; resolves to its `host:port`. */
async function listen(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/** ECR's GetAuthorizationToken, checking the SigV4 signature with the one secret it knows. */
function fakeEcr(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
  const body = raw.toString();
  const authorization = String(req.headers.authorization ?? '');
  const signed = /SignedHeaders=([a-z0-9;-]+),/.exec(authorization)?.[1]?.split(';') ?? [];
  const headers = Object.fromEntries(signed.map((h) => [h, String(req.headers[h] ?? '')]));
  const expected = signV4({
    method: req.method ?? '',
    url: new URL(`http://${req.headers.host}${req.url}`),
    headers,
    payloadHash: sha256Hex(body),
    region: 'us-west-2',
    service: 'ecr',
    accessKeyId: AWS_KEY,
    secretAccessKey: AWS_SECRET,
    amzDate: String(req.headers['x-amz-date']),
  });
  const target = String(req.headers['x-amz-target']);
  ecrCalls.push({ authorization, target, verified: expected === authorization });
  if (expected !== authorization) {
    json(res, 400, {
      __type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match',
    });
    return;
  }
  json(res, 200, {
    authorizationData: [
      {
        authorizationToken: Buffer.from(`AWS:${ECR_PASSWORD}`).toString('base64'),
        expiresAt: Date.now() / 1000 + 43200,
        proxyEndpoint: `https://${basic.host}`,
      },
    ],
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-cloud-'));
  const htpasswd = promisify(execFile);
  const lines = await Promise.all(
    [
      ['AWS', ECR_PASSWORD],
      ['oauth2accesstoken', GCP_TOKEN],
    ].map(async ([u = '', p = '']) => (await htpasswd('htpasswd', ['-Bbn', u, p])).stdout.trim()),
  );
  await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
  basic = await startRegistry({
    extraConfig: ['auth:', '  htpasswd:', '    realm: kiln-cloud', `    path: ${join(dir, 'htpasswd')}`].join('\n'),
  });
  basicBase = await pushBusybox(basic, 'base/busybox', 'latest', { creds: `AWS:${ECR_PASSWORD}` });
  ecr = await listen(fakeEcr);
  gce = await listen((req, _body, res) => {
    // The query may ask for scopes (?scopes=…), as Google's client libraries do.
    const ok =
      req.method === 'GET' &&
      new URL(req.url ?? '/', 'http://x').pathname === '/computeMetadata/v1/instance/service-accounts/default/token' &&
      req.headers['metadata-flavor'] === 'Google';
    // The real server says who it is; gcp-metadata refuses an answer without this header.
    res.setHeader('metadata-flavor', 'Google');
    if (ok) json(res, 200, { access_token: GCP_TOKEN, expires_in: 3599, token_type: 'Bearer' });
    else json(res, 403, { error: 'missing Metadata-Flavor' });
  });
  // Azure AD over HTTPS with a test CA (MSAL refuses an http authority); the executor trusts it
  // through NODE_EXTRA_CA_CERTS, as a pod trusts a private CA.
  aad = await startFakeAad(dir, (f, tenant) => {
    const ok =
      tenant === TENANT &&
      f.get('grant_type') === 'client_credentials' &&
      f.get('client_id') === 'kiln-app' &&
      f.get('client_secret') === AZ_SECRET;
    if (ok) return { status: 200, body: { access_token: AAD_TOKEN, expires_in: 3600, token_type: 'Bearer' } };
    return {
      status: 401,
      body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' },
    };
  });
  // ACR: the token server takes the refresh token from the exchange as an identity token.
  const ca = await makeCa(dir, 'acr-ca', 'rsa');
  const signing = await issueCert(ca, dir, 'acr-signer', 'signing', 'rsa');
  tokens = await startTokenServer({
    service: 'kiln-acr',
    issuer: 'kiln-acr-issuer',
    signing,
    alg: 'RS256',
    users: { [USER]: PASSWORD },
    refreshTokens: { [ACR_REFRESH]: USER },
  });
  hub = await startRegistry({
    extraConfig: [
      'auth:',
      '  token:',
      `    realm: ${tokens.realm}`,
      '    service: kiln-acr',
      '    issuer: kiln-acr-issuer',
      `    rootcertbundle: ${ca.cert}`,
    ].join('\n'),
  });
  // ACR serves /oauth2/exchange on the registry's own host: a front that answers it and passes
  // everything else to the real registry.
  acrHost = await listen((req, body, res) => {
    if (req.url === '/oauth2/exchange') {
      const f = new URLSearchParams(body.toString());
      const ok =
        f.get('grant_type') === 'access_token' &&
        f.get('access_token') === AAD_TOKEN &&
        f.get('tenant') === TENANT &&
        f.get('service') === acrHost;
      if (ok) json(res, 200, { refresh_token: ACR_REFRESH });
      else json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
      return;
    }
    const up = request(
      { host: '127.0.0.1', port: hub.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    up.end(body);
  });
  acrBase = await pushBusybox({ ...hub, host: acrHost }, 'base/busybox', 'latest', { creds: `${USER}:${PASSWORD}` });
}, 60_000);

afterAll(async () => {
  await Promise.all(
    servers.map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
  await Promise.all([basic?.stop(), hub?.stop(), tokens?.close(), aad?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function build(from: string, dest: string, helper: string, host: string, env: Record<string, string>) {
  const cfg = await tempDir('docker-config');
  await writeFile(join(cfg, 'config.json'), JSON.stringify({ credHelpers: { [host]: helper } }));
  const ctx = await tempDir('cloud-ctx');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${from}\nCOPY hello.txt /hello.txt\n`);
  await writeFile(join(ctx, 'hello.txt'), `pushed with ${helper}\n`);
  return runExecutor(['--context', ctx, '--destination', dest, '-v', 'debug'], {
    env: { DOCKER_CONFIG: cfg, HOME: await tempDir('home'), ...env },
  });
}

async function inspect(ref: string, creds: string): Promise<{ Digest: string; Layers: string[] }> {
  const out = await skopeo(['inspect', '--tls-verify=false', '--creds', creds, `docker://${ref}`]);
  return JSON.parse(out.toString()) as { Digest: string; Layers: string[] };
}

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: AWS_KEY,
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_REGION: 'us-west-2',
};

test('ecr-login: a SigV4-signed GetAuthorizationToken gives the AWS password the registry accepts', async () => {
  const dest = `${basic.host}/cloud/ecr:1`;
  const r = await build(basicBase.ref, dest, 'ecr-login', basic.host, {
    ...AWS_ENV,
    AWS_ENDPOINT_URL_ECR: `http://${ecr}`,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n').at(-1)).toBe((await inspect(dest, `AWS:${ECR_PASSWORD}`)).Digest);
  expect(ecrCalls.length).toBeGreaterThan(0);
  for (const call of ecrCalls) {
    expect(call.target).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    expect(call.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDKILNTEST\/\d{8}\/us-west-2\/ecr\/aws4_request, SignedHeaders=[a-z0-9;-]*host;x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(call.verified).toBe(true);
  }
  for (const secret of [AWS_SECRET, ECR_PASSWORD]) expect(r.stdout + r.stderr).not.toContain(secret);
});

test('ecr-login: a wrong secret key exits 4 saying AWS rejected the credentials, never showing a secret', async () => {
  const r = await build(basicBase.ref, `${basic.host}/cloud/ecr-denied:1`, 'ecr-login', basic.host, {
    ...AWS_ENV,
    AWS_SECRET_ACCESS_KEY: 'wrong-Secr3t-Key-1ab',
    AWS_ENDPOINT_URL_ECR: `http://${ecr}`,
  });
  expect(r.exitCode, r.stderr).toBe(4);
  expect(r.stderr).toMatch(
    /^error: .*reading credentials for 127\.0\.0\.1:\d+ from ecr-login \(built into Kiln.*\): AWS rejected the credentials from environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(400 InvalidSignatureException/m,
  );
  expect(r.stdout + r.stderr).not.toContain('wrong-Secr3t-Key-1ab');
});

test('ecr-login: credentials from a credential_process profile (AWS_PROFILE, AWS_CONFIG_FILE) through the SDK chain', async () => {
  const script = join(dir, 'aws-creds.sh');
  const creds = JSON.stringify({ Version: 1, AccessKeyId: AWS_KEY, SecretAccessKey: AWS_SECRET });
  await writeFile(script, `#!/bin/sh\necho '${creds}'\n`, { mode: 0o755 });
  await writeFile(join(dir, 'aws-config'), `[profile builder]\ncredential_process = ${script}\n`);
  const calls = ecrCalls.length;
  const dest = `${basic.host}/cloud/ecr-process:1`;
  const r = await build(basicBase.ref, dest, 'ecr-login', basic.host, {
    AWS_PROFILE: 'builder',
    AWS_CONFIG_FILE: join(dir, 'aws-config'),
    AWS_REGION: 'us-west-2',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: `http://${ecr}`,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n').at(-1)).toBe((await inspect(dest, `AWS:${ECR_PASSWORD}`)).Digest);
  expect(ecrCalls.length).toBeGreaterThan(calls);
  expect(ecrCalls.slice(calls).every((c) => c.verified)).toBe(true);
  for (const secret of [AWS_SECRET, ECR_PASSWORD]) expect(r.stdout + r.stderr).not.toContain(secret);
});

test('gcr: the GCE metadata server token is the oauth2accesstoken password the registry accepts', async () => {
  const dest = `${basic.host}/cloud/gcr:1`;
  const r = await build(basicBase.ref, dest, 'gcr', basic.host, { GCE_METADATA_HOST: gce });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n').at(-1)).toBe((await inspect(dest, `oauth2accesstoken:${GCP_TOKEN}`)).Digest);
  expect(r.stdout + r.stderr).not.toContain(GCP_TOKEN);
});

test('acr-env: the Azure AD token is exchanged for an ACR refresh token, used as identity token', async () => {
  const dest = `${acrHost}/cloud/acr:1`;
  const r = await build(acrBase.ref, dest, 'acr-env', acrHost, {
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: 'kiln-app',
    AZURE_CLIENT_SECRET: AZ_SECRET,
    AZURE_AUTHORITY_HOST: aad.authority,
    NODE_EXTRA_CA_CERTS: aad.ca.cert,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n').at(-1)).toBe((await inspect(dest, `${USER}:${PASSWORD}`)).Digest);
  expect(tokens.requests.some((t) => t.method === 'POST' && t.user === USER && t.status === 200)).toBe(true);
  for (const secret of [AZ_SECRET, AAD_TOKEN, ACR_REFRESH]) expect(r.stdout + r.stderr).not.toContain(secret);
});
