import { expect, test } from 'vitest';
import { DEFAULT_TOKEN_SECONDS, parseTokenResponse } from './token.js';

const now = 1_000_000;

test.each([
  ['token with expiry', { token: 't', expires_in: 300 }, { value: 't', expiresAt: now + 300_000 - 30_000 }],
  ['access_token only', { access_token: 'a', expires_in: 100 }, { value: 'a', expiresAt: now + 100_000 - 10_000 }],
  [
    'token wins over access_token',
    { token: 't', access_token: 'a' },
    { value: 't', expiresAt: now + DEFAULT_TOKEN_SECONDS * 1000 - 6000 },
  ],
  ['default lifetime', { token: 't' }, { value: 't', expiresAt: now + 54_000 }],
  ['no token', { expires_in: 3 }, undefined],
  ['empty token', { token: '' }, undefined],
  ['not an object', 'x', undefined],
])('%s', (_name, json, expected) => {
  expect(parseTokenResponse(json, now)).toEqual(expected);
});
