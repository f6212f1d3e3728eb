/**
 * `s3://` contexts read through the AWS SDK (issue 14), end to end on loopback, for what the SDK
 * brings that Kiln's hand-written S3 code lacked: the SDK's default credential chain (here a
 * profile of AWS_CONFIG_FILE whose `credential_process` prints the keys, checked by the
 * SigV4-verifying FAKE of test/support/cloud-stores.ts) and its HTTPS agent trusting the build's
 * extra CAs (s3rver behind a TLS front). context-cloud.test.ts holds the other S3 cases.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { issueCert, makeCa } from '../support/certs.js';
import { S3RVER_KEY, startS3rver, startSigV4S3, type Started } from '../support/cloud-stores.js';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { run } from '../support/run.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const BUCKET = 'sdk-bucket';
const OBJECT = 'ctx.tar.gz';
const KEY = { id: 'AKIAKILNPROCESS', secret: 'kiln-process-secret-0123456789' };

let work = '';
let s3rver: Started;
let sigv4: Started;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-context-s3-sdk-'));
  const ctx = join(work, 'ctx');
  await mkdir(join(ctx, 'bin'), { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nCOPY . /ctx/\n');
  await writeFile(join(ctx, 'hello.txt'), 'hello from the bucket\n');
  await writeFile(join(ctx, 'bin', 'run'), '#!/bin/sh\necho run\n');
  await chmod(join(ctx, 'bin', 'run'), 0o755);
  await run('tar', ['-C', ctx, '--owner=0', '--group=0', '--numeric-owner', '-czf', join(work, 'ctx.tar.gz'), '.']);
  const tarball = await readFile(join(work, 'ctx.tar.gz'));
  await mkdir(join(work, 's3rver'));
  s3rver = await startS3rver(join(work, 's3rver'), BUCKET, { [OBJECT]: tarball });
  sigv4 = await startSigV4S3(KEY, { [`/${BUCKET}/${OBJECT}`]: tarball });
});

afterAll(async () => {
  await Promise.all([s3rver?.stop(), sigv4?.stop()]);
  if (work !== '') await rm(work, { recursive: true, force: true });
});

async function build(tag: string, vars: Record<string, string>): Promise<ExecutorResult & { dest: string }> {
  const dest = `${env.reg.host}/e2e/context-s3-sdk:${tag}`;
  const args = ['--context', `s3://${BUCKET}/${OBJECT}`, '--dockerfile', 'Dockerfile', '--destination', dest];
  const r = await runExecutor([...args, '--insecure', '--insecure-pull', '--build-arg', `BASE=${env.base.ref}`], {
    env: vars,
    cwd: await tempDir('context-s3-sdk-cwd'),
  });
  return { ...r, dest };
}

/** The context's files are in the image, with their modes. */
async function expectContextIn(dest: string): Promise<void> {
  const image = await inspectImage({ registry: dest });
  onTestFinished(() => image.cleanup());
  expect(await image.readFile('/ctx/hello.txt')).toBe('hello from the bucket\n');
  expect(await image.readFile('/ctx/bin/run')).toBe('#!/bin/sh\necho run\n');
  expect((await image.stat('/ctx/bin/run')).mode & 0o777).toBe(0o755);
}

/** Exit 4 and one line naming the context that matches `why`. */
function expectRefused(r: ExecutorResult, why: RegExp): void {
  expect(r.exitCode, r.stderr).toBe(4);
  const line = r.stderr.split('\n').find((l) => l.includes(`context s3://${BUCKET}/${OBJECT}`)) ?? '';
  expect(line, r.stderr).toMatch(why);
}

test('AWS_PROFILE naming a credential_process profile of AWS_CONFIG_FILE signs the GET; a failing one is named', async () => {
  // The hand-written chain this replaced read only keys from the credentials file: this profile has none.
  const script = join(work, 'aws-creds.sh');
  const json = JSON.stringify({ Version: 1, AccessKeyId: KEY.id, SecretAccessKey: KEY.secret });
  await writeFile(script, `#!/bin/sh\necho '${json}'\n`, { mode: 0o755 });
  await writeFile(join(work, 'broken.sh'), '#!/bin/sh\necho nope >&2\nexit 3\n', { mode: 0o755 });
  const config = join(work, 'aws-config');
  await writeFile(
    config,
    `[profile ci]\ncredential_process = ${script}\nregion = eu-west-3\n\n` +
      `[profile broken]\ncredential_process = ${join(work, 'broken.sh')}\n`,
  );
  const profile = (name: string): Record<string, string> => ({
    S3_ENDPOINT: `http://127.0.0.1:${sigv4.port}`,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    AWS_PROFILE: name,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  const r = await build('process', profile('ci'));
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(KEY.secret);
  await expectContextIn(r.dest);
  expectRefused(await build('x', profile('broken')), /no AWS credentials found .*: Command failed: .*broken\.sh/);
});

test("over HTTPS: a CA of SSL_CERT_DIR reaches the SDK's HTTPS agent; without it, the TLS failure exits 4", async () => {
  const pki = await tempDir('context-s3-sdk-pki');
  const ca = await makeCa(pki);
  const cert = await issueCert(ca, pki, 'server', 'server');
  // TLS in front of s3rver, which speaks plain HTTP.
  const front = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (tls) => {
    const plain = connect(s3rver.port, '127.0.0.1');
    tls.on('error', () => plain.destroy());
    plain.on('error', () => tls.destroy());
    tls.pipe(plain).pipe(tls);
  });
  onTestFinished(() => new Promise<void>((ok) => front.close(() => ok())));
  await new Promise<void>((ok) => front.listen(0, '127.0.0.1', ok));
  const certs = await tempDir('context-s3-sdk-certs');
  await writeFile(join(certs, 'store-ca.crt'), ca.certPem);
  const vars = {
    S3_ENDPOINT: `https://127.0.0.1:${(front.address() as AddressInfo).port}`,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: S3RVER_KEY.id,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret,
  };
  const r = await build('tls', { ...vars, SSL_CERT_DIR: certs });
  expect(r.exitCode, r.stderr).toBe(0);
  await expectContextIn(r.dest);
  expectRefused(await build('x', vars), /S3 at https:\/\/127\.0\.0\.1:\d+: TLS handshake failed/);
});
