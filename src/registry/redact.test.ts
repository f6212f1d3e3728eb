import { Buffer } from 'node:buffer';
import { expect, test } from 'vitest';
import { Redactor, redactUrl, redactUrls } from './redact.js';

test('replaces passwords, their Basic encoding and tokens', () => {
  const r = new Redactor();
  r.addBasic('alice', 's3cret-pass');
  r.add('tok.en.value');
  const basic = Buffer.from('alice:s3cret-pass').toString('base64');
  expect(r.apply(`pw s3cret-pass hdr Basic ${basic} bearer tok.en.value`)).toBe('pw *** hdr Basic *** bearer ***');
});

test('longer secrets are replaced before the secrets they contain', () => {
  const r = new Redactor();
  r.add('abcd');
  r.add('abcdefgh');
  expect(r.apply('x abcdefgh y abcd')).toBe('x *** y ***');
});

test('ignores short and undefined secrets', () => {
  const r = new Redactor();
  r.add('ab');
  r.add(undefined);
  expect(r.apply('ab cd')).toBe('ab cd');
});

test.each([
  ['https://user:pw@host/v2/', 'https://host/v2/'],
  [
    'https://s3.example/bucket/blob?X-Amz-Signature=abc&X-Amz-Expires=60',
    'https://s3.example/bucket/blob?X-Amz-Signature=***&X-Amz-Expires=***',
  ],
  ['http://127.0.0.1:5000/v2/app/manifests/1', 'http://127.0.0.1:5000/v2/app/manifests/1'],
])('redactUrl(%s)', (input, expected) => {
  expect(redactUrl(input)).toBe(expected);
});

test('redactUrls rewrites URLs inside text', () => {
  expect(redactUrls('redirected to https://u:p@blob.example/x?sig=1 then failed')).toBe(
    'redirected to https://blob.example/x?sig=*** then failed',
  );
});
