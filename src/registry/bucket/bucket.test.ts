import { expect, test } from 'vitest';
import { azureTarget, parseConnectionString } from './azure-blob.js';
import { gcsObjectUrl } from './gcs.js';
import { storeError } from './get.js';
import { Redactor } from '../redact.js';
import { refusal, s3Settings, sdkFailure } from './s3.js';

test('S3: S3_ENDPOINT (a scheme added when missing), S3_FORCE_PATH_STYLE, the region of the environment', () => {
  expect(s3Settings({})).toEqual({ forcePathStyle: false });
  expect(s3Settings({ AWS_DEFAULT_REGION: 'eu-west-3' }).region).toBe('eu-west-3');
  const minio = s3Settings({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'TRUE', AWS_REGION: 'x' });
  expect(minio).toEqual({ endpoint: new URL('http://127.0.0.1:9000'), forcePathStyle: true, region: 'x' });
  expect(s3Settings({ S3_ENDPOINT: 'minio.example' }).endpoint?.href).toBe('https://minio.example/');
  expect(s3Settings({ AWS_ENDPOINT_URL_S3: 'http://s3.local' }).endpoint?.href).toBe('http://s3.local/');
});

test("S3: the SDK's errors in Kiln's words, the status and S3's code kept for the retry, no secret shown", () => {
  const redactor = new Redactor();
  redactor.add('s3cr3t');
  const sdkError = (name: string, status: number, message: string) =>
    Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
  const say = (err: unknown) => {
    const f = sdkFailure(err, { redactor });
    return { status: f.extra.status, text: refusal(f, 'b', 'k.tgz', 'profile ci', 'us-east-1').message };
  };
  expect(say(sdkError('NoSuchKey', 404, 'The specified key does not exist.'))).toEqual({
    status: 404,
    text: 'S3 bucket b has no object k.tgz (404 NoSuchKey: The specified key does not exist.)',
  });
  expect(say(sdkError('NoSuchBucket', 404, 'NoSuchBucket')).text).toBe('S3 has no bucket b (404 NoSuchBucket)');
  expect(say(sdkError('AccessDenied', 403, 'key s3cr3t')).text).toBe(
    'S3 denied access to bucket b with the credentials from profile ci (403 AccessDenied: key ***)',
  );
  expect(say(sdkError('SlowDown', 503, 'SlowDown'))).toEqual({
    status: 503,
    text: 'S3 answered (503 SlowDown) for bucket b',
  });
  expect(say(sdkError('UnknownError', 502, 'UnknownError')).text).toBe('S3 answered (502) for bucket b');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const unreachable = sdkFailure(refused, { redactor });
  expect([unreachable.message, unreachable.extra.status]).toEqual(['connection refused', undefined]);
  const late = Object.assign(
    new Error('@smithy/node-http-handler - the request socket timed out after 5 ms of inactivity'),
    {
      name: 'TimeoutError',
    },
  );
  expect(sdkFailure(late, { redactor, timeouts: { connectMs: 1, headersMs: 2, bodyMs: 5 } }).message).toBe(
    'no data for 0.005 s',
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
