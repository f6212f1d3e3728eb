import { expect, test } from 'vitest';
import { azureTarget, parseConnectionString } from './azure-blob.js';
import { gcsObjectUrl } from './gcs.js';
import { storeError } from './get.js';
import { s3ObjectUrl, s3Settings, s3SignedHeaders } from './s3.js';

test('S3: virtual-hosted by default, path-style with S3_FORCE_PATH_STYLE or a dotted bucket, keys encoded once', () => {
  expect(s3ObjectUrl('b', 'dir/ctx.tar.gz', s3Settings({})).href).toBe(
    'https://b.s3.us-east-1.amazonaws.com/dir/ctx.tar.gz',
  );
  expect(s3ObjectUrl('b', 'a b+c.tgz', s3Settings({ AWS_DEFAULT_REGION: 'eu-west-3' })).href).toBe(
    'https://b.s3.eu-west-3.amazonaws.com/a%20b%2Bc.tgz',
  );
  const minio = s3Settings({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'TRUE', AWS_REGION: 'x' });
  expect(minio).toMatchObject({ forcePathStyle: true, region: 'x' });
  expect(s3ObjectUrl('b', 'ctx.tar.gz', minio).href).toBe('http://127.0.0.1:9000/b/ctx.tar.gz');
  expect(s3ObjectUrl('b', 'k', s3Settings({ S3_ENDPOINT: 'minio.example' })).href).toBe('https://b.minio.example/k');
  expect(s3ObjectUrl('my.bucket', 'k', s3Settings({})).href).toBe('https://s3.us-east-1.amazonaws.com/my.bucket/k');
  expect(s3Settings({ AWS_ENDPOINT_URL_S3: 'http://s3.local' }).endpoint?.href).toBe('http://s3.local/');
});

test('S3: the signed headers sign host, the empty payload hash, the date and a session token', () => {
  const url = new URL('https://b.s3.us-east-1.amazonaws.com/k');
  const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'tok' };
  const h = s3SignedHeaders(url, creds, 'us-east-1', new Date('2026-01-02T03:04:05Z'));
  expect(h).toMatchObject({
    host: 'b.s3.us-east-1.amazonaws.com',
    'x-amz-date': '20260102T030405Z',
    'x-amz-security-token': 'tok',
    'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
  expect(h.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKID\/20260102\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
  );
});

test('GCS: the JSON API media URL, the object name one encoded segment; STORAGE_EMULATOR_HOST with or without a scheme', () => {
  expect(gcsObjectUrl('b', 'dir/ctx.tar.gz', {}).href).toBe(
    'https://storage.googleapis.com/storage/v1/b/b/o/dir%2Fctx.tar.gz?alt=media',
  );
  expect(gcsObjectUrl('b', 'o', { STORAGE_EMULATOR_HOST: 'localhost:4443' }).href).toBe(
    'http://localhost:4443/storage/v1/b/b/o/o?alt=media',
  );
  expect(gcsObjectUrl('b', 'o', { STORAGE_EMULATOR_HOST: 'https://gcs.local/' }).href).toBe(
    'https://gcs.local/storage/v1/b/b/o/o?alt=media',
  );
});

test('Azure: the account endpoint, or the connection string of the same account (Azurite), the access key winning', () => {
  expect(azureTarget('acct', 'c', 'dir/a b.tgz', {})).toEqual({
    url: new URL('https://acct.blob.core.windows.net/c/dir/a%20b.tgz'),
    account: 'acct',
  });
  const azurite =
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';
  expect(parseConnectionString(azurite).AccountKey).toBe('a2V5');
  const t = azureTarget('devstoreaccount1', 'c', 'b', { AZURE_STORAGE_CONNECTION_STRING: azurite });
  expect(t).toMatchObject({ key: 'a2V5', keySource: 'AZURE_STORAGE_CONNECTION_STRING' });
  expect(t.url.href).toBe('http://127.0.0.1:10000/devstoreaccount1/c/b');
  expect(azureTarget('other', 'c', 'b', { AZURE_STORAGE_CONNECTION_STRING: azurite }).url.host).toBe(
    'other.blob.core.windows.net',
  );
  const dev = azureTarget('devstoreaccount1', 'c', 'b', {
    AZURE_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
    AZURE_STORAGE_ACCESS_KEY: 'b3duA==',
  });
  expect(dev).toMatchObject({ key: 'b3duA==', keySource: 'AZURE_STORAGE_ACCESS_KEY' });
  expect(dev.url.href).toBe('http://127.0.0.1:10000/devstoreaccount1/c/b');
  const sas = azureTarget('acct', 'c', 'b', {
    AZURE_STORAGE_CONNECTION_STRING:
      'BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&sig=abc',
  });
  expect(sas).toMatchObject({ sas: 'sv=2022-11-02&sig=abc', keySource: 'AZURE_STORAGE_CONNECTION_STRING' });
  const sovereign = azureTarget('acct', 'c', 'b', {
    AZURE_STORAGE_CONNECTION_STRING: 'AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn',
  });
  expect(sovereign.url.host).toBe('acct.blob.core.chinacloudapi.cn');
});

test("the stores' error bodies: S3/Azure XML codes (first line of the message), GCS JSON reasons", () => {
  expect(
    storeError('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'),
  ).toEqual({
    code: 'NoSuchKey',
    detail: 'The specified key does not exist.',
  });
  expect(storeError('<Error><Code>BlobNotFound</Code><Message>Gone.\nRequestId:1\nTime:2</Message></Error>')).toEqual({
    code: 'BlobNotFound',
    detail: 'Gone.',
  });
  expect(storeError('{"error":{"code":404,"message":"No such object: b/o","errors":[{"reason":"notFound"}]}}')).toEqual(
    {
      code: 'notFound',
      detail: 'No such object: b/o',
    },
  );
  expect(storeError('<html>')).toEqual({});
});
