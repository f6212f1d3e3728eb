import { expect, test } from 'vitest';
import { amzDate, sha256Hex, signedHeaders, signV4 } from './aws-sigv4.js';

// AWS's published SigV4 test suite (aws-sig-v4-test-suite): its example key and clock.
const EXAMPLE = {
  region: 'us-east-1',
  service: 'service',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  amzDate: '20150830T123600Z',
  payloadHash: sha256Hex(''),
};
const PREFIX =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=';

test.each([
  ['get-vanilla', 'https://example.amazonaws.com/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
  [
    'get-vanilla-query-order-key-case',
    'https://example.amazonaws.com/?Param2=value2&Param1=value1',
    'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  ],
])('SigV4 test suite "%s"', (_name, url, signature) => {
  const auth = signV4({
    ...EXAMPLE,
    method: 'GET',
    url: new URL(url),
    headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': EXAMPLE.amzDate },
  });
  expect(auth).toBe(PREFIX + signature);
});

test('amzDate is the basic ISO 8601 form', () => {
  expect(amzDate(new Date('2015-08-30T12:36:00.123Z'))).toBe('20150830T123600Z');
});

test('signedHeaders signs the session token and every extra header, never showing the secret', () => {
  const h = signedHeaders({
    url: new URL('https://api.ecr.eu-west-1.amazonaws.com/'),
    body: '{}',
    region: 'eu-west-1',
    service: 'ecr',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET-KEY-xyz', sessionToken: 'SESSION' },
    now: new Date('2026-01-02T03:04:05Z'),
    extra: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'T' },
  });
  expect(h['x-amz-security-token']).toBe('SESSION');
  expect(h.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKID\/20260102\/eu-west-1\/ecr\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
  );
  expect(JSON.stringify(h)).not.toContain('SECRET-KEY-xyz');
});
