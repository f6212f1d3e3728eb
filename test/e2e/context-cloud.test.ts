/**
 * Build contexts in object stores (issue 14), end to end on loopback: `s3://` against s3rver with
 * Kaniko's S3_ENDPOINT and S3_FORCE_PATH_STYLE, an Azure blob URL against Azurite with a Shared
 * Key, and `gs://` / `--bucket` against a FAKE of GCS's token endpoint and JSON API (no GCS
 * emulator can be installed; test/support/cloud-stores.ts says what each server is). Each image's
 * rootfs must equal the one built from the same files with `dir://`; each refusal is exit 4 with
 * one line naming the context, and no key, secret or token in any output.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { runExecutor, tempDir, type ExecutorResult } from '../support/executor.js';
import { inspectImage } from '../support/inspect.js';
import { freePort } from '../support/registry.js';
import { run } from '../support/run.js';
import {
  AZURITE,
  S3RVER_KEY,
  startAzurite,
  startFakeGcs,
  startS3rver,
  startSigV4S3,
  type FakeGcs,
  type Started,
} from '../support/cloud-stores.js';
import { useRegistryWithBusybox } from '../support/suite.js';

const env = useRegistryWithBusybox();
const BUCKET = 'ctx-bucket';
const OBJECT = 'build/context.tar.gz';
const SIGV4_KEY = { id: 'AKIAKILNTEST', secret: 'kiln-right-secret-0123456789' };
const WRONG_SECRET = 'kiln-wrong-secret-9876543210';

let work = '';
let ctx = '';
let s3rver: Started;
let sigv4: Started;
let azurite: Started;
let gcs: FakeGcs;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kiln-context-cloud-'));
  ctx = join(work, 'ctx');
  await mkdir(join(ctx, 'bin'), { recursive: true });
  await mkdir(join(ctx, 'sub', 'deep'), { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), 'ARG BASE\nFROM $BASE\nCOPY . /ctx/\n');
  await writeFile(join(ctx, 'hello.txt'), 'hello from the context\n');
  await chmod(join(ctx, 'hello.txt'), 0o640);
  await writeFile(join(ctx, 'bin', 'run'), '#!/bin/sh\necho run\n');
  await chmod(join(ctx, 'bin', 'run'), 0o755);
  await writeFile(join(ctx, 'sub', 'deep', 'name with space.txt'), 'deep\n');
  await symlink('hello.txt', join(ctx, 'link'));
  await run('tar', ['-C', ctx, '--owner=0', '--group=0', '--numeric-owner', '-czf', join(work, 'ctx.tar.gz'), '.']);
  const tarball = await readFile(join(work, 'ctx.tar.gz'));
  // A gzip header and then bytes that are not deflate data.
  const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(600, 0xff)]);
  await mkdir(join(work, 's3rver'));
  s3rver = await startS3rver(join(work, 's3rver'), BUCKET, { [OBJECT]: tarball, 'corrupt.tar.gz': corrupt });
  sigv4 = await startSigV4S3(
    SIGV4_KEY,
    { [`/${BUCKET}/flaky.tar.gz`]: tarball },
    { [`/${BUCKET}/flaky.tar.gz`]: ['503', 'cut'] },
  );
  azurite = await startAzurite('builds', { 'app/context.tar.gz': tarball });
  gcs = await startFakeGcs({ [`${BUCKET}/${OBJECT}`]: tarball, [`${BUCKET}/context.tar.gz`]: tarball });
  await writeFile(join(work, 'sa.json'), gcs.keyJson);
});

afterAll(async () => {
  await Promise.all([s3rver?.stop(), sigv4?.stop(), azurite?.stop(), gcs?.stop()]);
  if (work !== '') await rm(work, { recursive: true, force: true });
});

/** Builds with `--context`-like `args`, from an empty working directory (the Dockerfile is the context's). */
async function build(
  tag: string,
  args: string[],
  extraEnv: Record<string, string>,
): Promise<ExecutorResult & { dest: string }> {
  const dest = `${env.reg.host}/e2e/context-cloud:${tag}`;
  const r = await runExecutor(
    [
      ...args,
      '--dockerfile',
      'Dockerfile',
      '--destination',
      dest,
      '--insecure',
      '--insecure-pull',
      '--build-arg',
      `BASE=${env.base.ref}`,
    ],
    { env: extraEnv, cwd: await tempDir('context-cloud-cwd') },
  );
  return { ...r, dest };
}

/** Every path of a rootfs with its type, mode, owner, size, link target and content hash (not mtimes). */
async function tree(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const p = join(rel, name);
    const st = await lstat(join(root, p));
    const what = st.isSymbolicLink()
      ? `-> ${await readlink(join(root, p))}`
      : st.isFile()
        ? createHash('sha256')
            .update(await readFile(join(root, p)))
            .digest('hex')
        : '';
    out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? st.size : ''} ${what}`);
    if (st.isDirectory()) out.push(...(await tree(root, p)));
  }
  return out;
}

async function rootfsOf(dest: string): Promise<string[]> {
  const image = await inspectImage({ registry: dest });
  onTestFinished(() => image.cleanup());
  expect(await image.readFile('/ctx/hello.txt')).toBe('hello from the context\n');
  return tree(image.rootfsDir);
}

let baseline: Promise<string[]> | undefined;
/** The rootfs built from the same files with dir:// (built once). */
function dirRootfs(): Promise<string[]> {
  baseline ??= (async () => {
    const r = await build('dir', ['--context', `dir://${ctx}`], {});
    expect(r.exitCode, r.stderr).toBe(0);
    const image = await inspectImage({ registry: r.dest });
    try {
      return await tree(image.rootfsDir);
    } finally {
      await image.cleanup();
    }
  })();
  return baseline;
}

/** Exit 4, one line naming `context`, and none of `secrets` anywhere. */
function expectRefused(r: ExecutorResult, context: string, why: RegExp, secrets: string[]): void {
  expect(r.exitCode, r.stderr).toBe(4);
  const line = r.stderr.split('\n').find((l) => l.includes(`context ${context}`)) ?? '';
  expect(line, r.stderr).toMatch(why);
  for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
}

const S3_ENV = (port: number): Record<string, string> => ({
  S3_ENDPOINT: `http://127.0.0.1:${port}`,
  S3_FORCE_PATH_STYLE: 'true',
  AWS_REGION: 'us-east-1',
});

test('s3:// builds from s3rver with S3_ENDPOINT and S3_FORCE_PATH_STYLE, the same rootfs as dir://', async () => {
  const r = await build('s3', ['--context', `s3://${BUCKET}/${OBJECT}`], {
    ...S3_ENV(s3rver.port),
    AWS_ACCESS_KEY_ID: S3RVER_KEY.id,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await rootfsOf(r.dest)).toEqual(await dirRootfs());
});

test('s3://: a wrong secret key exits 4 naming the bucket (against a SigV4-checking fake), the secret nowhere', async () => {
  const keys = { AWS_ACCESS_KEY_ID: SIGV4_KEY.id };
  const wrong = await build('x', ['--verbosity=trace', '--context', `s3://${BUCKET}/${OBJECT}`], {
    ...S3_ENV(sigv4.port),
    ...keys,
    AWS_SECRET_ACCESS_KEY: WRONG_SECRET,
  });
  expectRefused(
    wrong,
    `s3://${BUCKET}/${OBJECT}`,
    new RegExp(`denied access to bucket ${BUCKET}.*SignatureDoesNotMatch`),
    [WRONG_SECRET],
  );
  // The right secret passes the fake's signature check: it then says the object is missing.
  const right = await build('x', ['--context', `s3://${BUCKET}/${OBJECT}`], {
    ...S3_ENV(sigv4.port),
    ...keys,
    AWS_SECRET_ACCESS_KEY: SIGV4_KEY.secret,
  });
  expectRefused(right, `s3://${BUCKET}/${OBJECT}`, new RegExp(`bucket ${BUCKET} has no object ${OBJECT}.*NoSuchKey`), [
    SIGV4_KEY.secret,
  ]);
});

test('s3://: a 503 SlowDown and a download cut short are tried again, and the build succeeds', async () => {
  const r = await build('s3-flaky', ['--context', `s3://${BUCKET}/flaky.tar.gz`], {
    ...S3_ENV(sigv4.port),
    AWS_ACCESS_KEY_ID: SIGV4_KEY.id,
    AWS_SECRET_ACCESS_KEY: SIGV4_KEY.secret,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/retrying in \d+ ms: context s3:\/\/ctx-bucket\/flaky\.tar\.gz: S3 answered \(503 SlowDown/);
  expect(r.stderr).toMatch(/retrying in \d+ ms: context s3:\/\/ctx-bucket\/flaky\.tar\.gz: downloading: /);
  expect(await rootfsOf(r.dest)).toEqual(await dirRootfs());
});

test('s3://: an unknown access key, a missing object or an unreachable endpoint exit 4; a corrupt archive exits 5', async () => {
  const keys = { AWS_ACCESS_KEY_ID: 'NOSUCHKEY', AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret };
  const unknown = await build('x', ['--context', `s3://${BUCKET}/${OBJECT}`], { ...S3_ENV(s3rver.port), ...keys });
  expectRefused(unknown, `s3://${BUCKET}/${OBJECT}`, /denied access to bucket ctx-bucket .*InvalidAccessKeyId/, []);
  const good = { AWS_ACCESS_KEY_ID: S3RVER_KEY.id, AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secret };
  const missing = await build('x', ['--context', `s3://${BUCKET}/nope.tar.gz`], { ...S3_ENV(s3rver.port), ...good });
  expectRefused(missing, `s3://${BUCKET}/nope.tar.gz`, /has no object nope\.tar\.gz/, []);
  const noBucket = await build('x', ['--context', 's3://no-bucket/x.tar.gz'], { ...S3_ENV(s3rver.port), ...good });
  expectRefused(noBucket, 's3://no-bucket/x.tar.gz', /S3 has no bucket no-bucket/, []);
  const closed = await freePort();
  const unreachable = await build('x', ['--context', `s3://${BUCKET}/${OBJECT}`], { ...S3_ENV(closed), ...good });
  expectRefused(unreachable, `s3://${BUCKET}/${OBJECT}`, new RegExp(`127\\.0\\.0\\.1:${closed}`), []);
  const corrupt = await build('x', ['--context', `s3://${BUCKET}/corrupt.tar.gz`], { ...S3_ENV(s3rver.port), ...good });
  expect(corrupt.exitCode, corrupt.stderr).toBe(5);
  expect(corrupt.stderr).toMatch(/context s3:\/\/ctx-bucket\/corrupt\.tar\.gz.*not a valid/);
});

const AZURE_URL = `https://${AZURITE.account}.blob.core.windows.net/builds/app/context.tar.gz`;
const azureEnv = (key: string): Record<string, string> => ({
  // How Azure SDK users reach Azurite: a connection string whose BlobEndpoint is the emulator's.
  AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${AZURITE.account};BlobEndpoint=http://127.0.0.1:${azurite.port}/${AZURITE.account};`,
  AZURE_STORAGE_ACCESS_KEY: key,
});

test('an Azure blob URL builds from Azurite with AZURE_STORAGE_ACCESS_KEY, the same rootfs as dir://', async () => {
  const r = await build('azure', ['--context', AZURE_URL], azureEnv(AZURITE.key));
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await rootfsOf(r.dest)).toEqual(await dirRootfs());
});

test('an Azure blob: a wrong key or a missing blob exits 4 naming it, the key nowhere', async () => {
  const wrongKey = Buffer.from('kiln-wrong-azure-storage-key-0123456789').toString('base64');
  const wrong = await build('x', ['--verbosity=trace', '--context', AZURE_URL], azureEnv(wrongKey));
  expectRefused(
    wrong,
    AZURE_URL,
    /denied access to container builds with the key from AZURE_STORAGE_ACCESS_KEY \(403/,
    [wrongKey],
  );
  const missingUrl = AZURE_URL.replace('context.tar.gz', 'nope.tar.gz');
  const missing = await build('x', ['--context', missingUrl], azureEnv(AZURITE.key));
  expectRefused(missing, missingUrl, /container builds has no blob app\/nope\.tar\.gz .*BlobNotFound/, [AZURITE.key]);
});

const gcsEnv = (keyFile: string): Record<string, string> => ({
  STORAGE_EMULATOR_HOST: `127.0.0.1:${gcs.port}`,
  GOOGLE_APPLICATION_CREDENTIALS: keyFile,
});

test('gs:// and --bucket build from the GCS fake with a service-account key, the same rootfs as dir://', async () => {
  const r = await build('gs', ['--context', `gs://${BUCKET}/${OBJECT}`], gcsEnv(join(work, 'sa.json')));
  expect(r.exitCode, r.stderr).toBe(0);
  expect(await rootfsOf(r.dest)).toEqual(await dirRootfs());
  // Kaniko's --bucket: the object is context.tar.gz, and --context is not needed.
  const b = await build('bucket', ['--bucket', BUCKET], gcsEnv(join(work, 'sa.json')));
  expect(b.exitCode, b.stderr).toBe(0);
  expect(b.stdout + b.stderr).not.toContain(gcs.token);
  expect(await rootfsOf(b.dest)).toEqual(await dirRootfs());
});

test('gs://: a key Google rejects or a missing object exits 4 naming the context', async () => {
  const other = JSON.parse(gcs.keyJson) as Record<string, string>;
  const { generateKeyPairSync } = await import('node:crypto');
  other.private_key = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  await writeFile(join(work, 'other.json'), JSON.stringify(other));
  const rejected = await build('x', ['--context', `gs://${BUCKET}/${OBJECT}`], gcsEnv(join(work, 'other.json')));
  expectRefused(rejected, `gs://${BUCKET}/${OBJECT}`, /Google rejected the credentials from .*other\.json/, []);
  const missing = await build('x', ['--context', `gs://${BUCKET}/nope.tar.gz`], gcsEnv(join(work, 'sa.json')));
  expectRefused(missing, `gs://${BUCKET}/nope.tar.gz`, /has no object nope\.tar\.gz in bucket ctx-bucket/, [gcs.token]);
});

test('gs:// with an external_account file (workload identity federation), which the hand-written ADC code refused: the subject token exchanged at STS', async () => {
  const wif = (tokenFile: string): string =>
    JSON.stringify({
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/ci/providers/kiln',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: gcs.stsUrl,
      credential_source: { file: tokenFile },
    });
  await writeFile(join(work, 'oidc-token'), gcs.subjectToken);
  await writeFile(join(work, 'wif.json'), wif(join(work, 'oidc-token')));
  const r = await build(
    'gs-wif',
    ['--verbosity=trace', '--context', `gs://${BUCKET}/${OBJECT}`],
    gcsEnv(join(work, 'wif.json')),
  );
  expect(r.exitCode, r.stderr).toBe(0);
  for (const secret of [gcs.token, gcs.subjectToken]) expect(r.stdout + r.stderr).not.toContain(secret);
  expect(await rootfsOf(r.dest)).toEqual(await dirRootfs());
  // A subject token STS refuses: exit 4 naming the context and the file, the token nowhere.
  const forged = 'oidc-Forged-subject-T0ken';
  await writeFile(join(work, 'forged-token'), forged);
  await writeFile(join(work, 'wif-forged.json'), wif(join(work, 'forged-token')));
  const refused = await build(
    'x',
    ['--verbosity=trace', '--context', `gs://${BUCKET}/${OBJECT}`],
    gcsEnv(join(work, 'wif-forged.json')),
  );
  expectRefused(
    refused,
    `gs://${BUCKET}/${OBJECT}`,
    /Google rejected the credentials from .*wif-forged\.json \(external_account\) \(400 invalid_grant/,
    [forged],
  );
});
