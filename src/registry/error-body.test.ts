import { expect, test } from 'vitest';
import { describeFailure, parseErrorBody } from './error-body.js';

test.each([
  [
    'OCI error body',
    '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":"app","Action":"push"}]}]}',
    [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
  ],
  [
    'several errors',
    '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"},{"code":"DENIED"}]}',
    [
      { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' },
      { code: 'DENIED', message: '' },
    ],
  ],
  [
    'Docker Hub token server',
    '{"details":"incorrect username or password"}',
    [{ code: '', message: 'incorrect username or password' }],
  ],
  ['OAuth2 error', '{"error":"invalid_grant","error_description":"bad token"}', [{ code: '', message: 'bad token' }]],
  ['not JSON', '<html>502 Bad Gateway</html>', []],
  ['empty', '', []],
  ['JSON without errors', '{"foo":1}', []],
  [
    'control characters are flattened',
    '{"errors":[{"code":"X","message":"a\\nb\\u001b[31m"}]}',
    [{ code: 'X', message: 'a b [31m' }],
  ],
])('parseErrorBody: %s', (_name, body, expected) => {
  expect(parseErrorBody(body)).toEqual(expected);
});

test('long registry messages are cut', () => {
  const [e] = parseErrorBody(JSON.stringify({ errors: [{ code: 'X', message: 'm'.repeat(1000) }] }));
  expect(e?.message.length).toBeLessThanOrEqual(201);
});

test.each([
  [
    401,
    [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
    'other',
    'unauthorized (401 UNAUTHORIZED: authentication required)',
  ],
  [
    403,
    [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
    'other',
    'denied (403 DENIED: requested access to the resource is denied)',
  ],
  [
    404,
    [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
    'manifest',
    'not found: manifest unknown (404 MANIFEST_UNKNOWN)',
  ],
  [
    404,
    [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
    'manifest',
    'not found: repository unknown (404 NAME_UNKNOWN: repository name not known to registry)',
  ],
  [404, [], 'manifest', 'not found: manifest unknown (HTTP 404)'],
  [404, [], 'blob', 'not found: blob unknown (HTTP 404)'],
  [404, [], 'other', 'not found (HTTP 404)'],
  [
    401,
    [{ code: '', message: 'incorrect username or password' }],
    'token',
    'unauthorized (401 incorrect username or password)',
  ],
  [
    429,
    [{ code: 'TOOMANYREQUESTS', message: 'rate limit' }],
    'other',
    'too many requests (429 TOOMANYREQUESTS: rate limit)',
  ],
  [503, [], 'other', 'registry server error (HTTP 503)'],
  [418, [], 'other', 'unexpected response (HTTP 418)'],
] as const)('describeFailure %i %j', (status, entries, subject, expected) => {
  expect(describeFailure(status, [...entries], subject)).toBe(expected);
});
