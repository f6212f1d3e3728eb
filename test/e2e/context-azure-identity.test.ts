/**
 * Azure blob contexts without an account key (issue 14, `@azure/storage-blob` with
 * `@azure/identity`), end to end on loopback: Azurite over HTTPS with the test CA and
 * `--oauth basic` (it checks a bearer token's issuer, audience and lifetime, not its signature),
 * the executor trusting the CA through NODE_EXTRA_CA_CERTS. The tokens come from FAKES
 * (test/support/fake-aad.ts): the instance metadata service for a managed identity, which the
 * hand-written code never asked, and Azure AD for a service principal. A SAS in the context URL,
 * also new, is read from the plain-http Azurite. A FAKE blob endpoint that is busy, then cuts the
 * download, shows the SDK's single try feeding the fetcher's retries on an emptied directory.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { AZURITE, startAzurite, type Started } from '../support/cloud-stores.js';
import { issueCert, makeCa, type CertFiles } from '../support/certs.js';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { fakeAccessToken, startFakeAad, startFakeImds, type FakeAad, type FakeImds } from '../support/fake-aad.js';
import { inspectImage } from '../support/inspect.js';
import { run } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const TENANT = 'kiln-tenant';
const SECRET = 'az-Storage-Secr3t-6tq';
const URL_OF = (blob: string): string => `https://${AZURITE.account}.blob.core.windows.net/builds/${blob}`;

let work = '';
let tarball: Buffer;
let ca: CertFiles;
let secure: Started;
let plain: Started;
let imds: FakeImds;
let aad: FakeAad;
/** The audience the fake IMDS puts in its tokens. */
let audience = 'https://storage.azure.com';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-context-azure-id-'));
  const ctx = join(work, 'ctx');
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nCOPY hello.txt /ctx/\n');
  await writeFile(join(ctx, 'hello.txt'), 'hello from an Azure blob\n');
  await run('tar', ['-C', ctx, '-czf', join(work, 'ctx.tar.gz'), '.']);
  tarball = await readFile(join(work, 'ctx.tar.gz'));
  ca = await makeCa(work, 'azurite-ca');
  const cert = await issueCert(ca, work, 'azurite', 'server');
  secure = await startAzurite('builds', { 'app/context.tar.gz': tarball }, { ...cert, caPem: ca.certPem });
  plain = await startAzurite('builds', { 'app/context.tar.gz': tarball });
  imds = await startFakeImds(() => fakeAccessToken(audience, TENANT, 'from-imds'));
  aad = await startFakeAad(work, (form, tenant) => {
    if (tenant === TENANT && form.get('client_id') === 'kiln-app' && form.get('client_secret') === SECRET)
      return {
        status: 200,
        body: { access_token: fakeAccessToken('https://storage.azure.com', TENANT, 'from-aad'), expires_in: 3600 },
      };
    return {
      status: 401,
      body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' },
    };
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([secure?.stop(), plain?.stop(), imds?.stop(), aad?.stop()]);
  if (work !== '') await rm(work, { recursive: true, force: true });
});

/** The connection string naming Azurite's endpoint and no key: the credential must come from elsewhere. */
const endpointOnly = (s: Started, scheme: 'http' | 'https'): string =>
  `AccountName=${AZURITE.account};BlobEndpoint=${scheme}://127.0.0.1:${s.port}/${AZURITE.account};`;

async function build(context: string, extraEnv: Record<string, string>): Promise<ExecutorResult & { dest: string }> {
  const dest = `${env.reg.host}/e2e/context-azure-id:1`;
  const r = await runExecutor(
    ['--context', context, '--dockerfile', 'Dockerfile', '--destination', dest, '--insecure', '--insecure-pull'].concat(
      ['--build-arg', `BASE=${env.base.ref}`],
    ),
    { env: extraEnv, cwd: await tempDir('context-azure-id-cwd') },
  );
  return { ...r, dest };
}

async function expectBuilt(r: ExecutorResult & { dest: string }): Promise<void> {
  expect(r.exitCode, r.stderr).toBe(0);
  const image = await inspectImage({ registry: r.dest });
  onTestFinished(() => image.cleanup());
  expect(await image.readFile('/ctx/hello.txt')).toBe('hello from an Azure blob\n');
}

const httpsEnv = (): Record<string, string> => ({
  AZURE_STORAGE_CONNECTION_STRING: endpointOnly(secure, 'https'),
  NODE_EXTRA_CA_CERTS: ca.cert,
});

test('a managed identity (IMDS) gives the storage token Azurite accepts; no key, no secret anywhere', async () => {
  audience = 'https://storage.azure.com';
  const r = await build(URL_OF('app/context.tar.gz'), { ...httpsEnv(), AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url });
  await expectBuilt(r);
  expect(imds.resources.at(-1)).toBe('https://storage.azure.com');
  expect(r.stdout + r.stderr).not.toContain(fakeAccessToken(audience, TENANT, 'from-imds').split('.')[2]);
});

test('a token Azurite refuses exits 4 naming the container and the managed identity', async () => {
  audience = 'https://management.azure.com';
  const r = await build(URL_OF('app/context.tar.gz'), { ...httpsEnv(), AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url });
  expect(r.exitCode, r.stderr).toBe(4);
  expect(r.stderr).toMatch(
    /context https:\/\/devstoreaccount1\.blob\.core\.windows\.net\/builds\/app\/context\.tar\.gz: Azure storage account devstoreaccount1 denied access to container builds with the Azure AD token of the managed identity \(403 AuthenticationFailed/,
  );
});

test('a service principal: the Azure AD token of AZURE_CLIENT_SECRET; a wrong secret exits 4, the secret nowhere', async () => {
  const sp = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: 'kiln-app', AZURE_AUTHORITY_HOST: aad.authority };
  // One CA file for both fakes: NODE_EXTRA_CA_CERTS names one file.
  const cas = join(work, 'cas.pem');
  await writeFile(cas, `${ca.certPem}${aad.ca.certPem}`);
  await expectBuilt(
    await build(URL_OF('app/context.tar.gz'), {
      ...httpsEnv(),
      ...sp,
      AZURE_CLIENT_SECRET: SECRET,
      NODE_EXTRA_CA_CERTS: cas,
    }),
  );
  expect(aad.grants.at(-1)?.get('scope')).toBe('https://storage.azure.com/.default');
  const wrong = 'az-Wrong-Secr3t-1zz';
  const r = await build(URL_OF('app/context.tar.gz'), {
    ...httpsEnv(),
    ...sp,
    AZURE_CLIENT_SECRET: wrong,
    NODE_EXTRA_CA_CERTS: cas,
  });
  expect(r.exitCode, r.stderr).toBe(4);
  expect(r.stderr).toMatch(
    /context https:\/\/devstoreaccount1\.blob\.core\.windows\.net\/builds\/app\/context\.tar\.gz: Azure AD rejected the credentials of AZURE_CLIENT_ID kiln-app with AZURE_CLIENT_SECRET \(401 invalid_client: AADSTS7000215/,
  );
  expect(r.stdout + r.stderr).not.toContain(wrong);
});

test('a SAS in the context URL reads the blob without a key; the signature never shows', async () => {
  const sas = generateBlobSASQueryParameters(
    {
      containerName: 'builds',
      blobName: 'app/context.tar.gz',
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(AZURITE.account, AZURITE.key),
  ).toString();
  const r = await build(`${URL_OF('app/context.tar.gz')}?${sas}`, {
    AZURE_STORAGE_CONNECTION_STRING: endpointOnly(plain, 'http'),
  });
  await expectBuilt(r);
  const sig = new URLSearchParams(sas).get('sig') ?? '';
  expect(sig).not.toBe('');
  expect(r.stdout + r.stderr).not.toContain(sig);
  expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(sig));
});

test('a busy answer and a download cut midway are tried again on an emptied directory, and the build succeeds', async () => {
  let tries = 0;
  const fake = createServer((_req, res) => {
    tries++;
    if (tries === 1) {
      res.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy' });
      return void res.end('<?xml version="1.0"?><Error><Code>ServerBusy</Code><Message>Busy.</Message></Error>');
    }
    res.writeHead(200, { 'content-length': String(tarball.length), etag: '"0x1"', 'x-ms-blob-type': 'BlockBlob' });
    if (tries > 2) return void res.end(tarball);
    res.write(tarball.subarray(0, tarball.length >> 1));
    setTimeout(() => res.socket?.destroy(), 50);
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => fake.close(() => r())));
  const addr = fake.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const r = await build(URL_OF('app/context.tar.gz'), {
    AZURE_STORAGE_CONNECTION_STRING: `AccountName=${AZURITE.account};BlobEndpoint=http://127.0.0.1:${port}/${AZURITE.account};`,
    AZURE_STORAGE_ACCESS_KEY: AZURITE.key,
  });
  await expectBuilt(r);
  expect(tries).toBe(3);
  expect(r.stdout + r.stderr).not.toContain(AZURITE.key);
});
