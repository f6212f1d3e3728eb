import { expect, test } from 'vitest';
import { isRedirect, MAX_REDIRECTS, redirectTarget } from './redirect.js';

const from = new URL('https://registry.example/v2/app/blobs/sha256:1');

test('redirect statuses with a Location are followed; others are answers', () => {
  for (const s of [301, 302, 303, 307, 308]) expect(isRedirect(s, '/x')).toBe(true);
  expect(isRedirect(302, undefined)).toBe(false);
  expect(isRedirect(300, '/x')).toBe(false);
  expect(isRedirect(304, '/x')).toBe(false);
});

test('a relative Location resolves against the URL that answered; HTTPS to HTTPS and HTTP to HTTPS are followed', () => {
  expect(redirectTarget(from, '/storage/b?sig=1', 0)).toEqual({
    url: new URL('https://registry.example/storage/b?sig=1'),
  });
  expect(redirectTarget(from, 'https://cdn.example/b', 3)).toEqual({ url: new URL('https://cdn.example/b') });
  expect(redirectTarget(new URL('http://h/a'), 'https://h/b', 0)).toEqual({ url: new URL('https://h/b') });
  expect(redirectTarget(new URL('http://h/a'), 'http://other/b', 0)).toEqual({ url: new URL('http://other/b') });
});

test('HTTPS down to plain HTTP is refused, the target named without its secrets', () => {
  expect(redirectTarget(from, 'http://u:pw@cdn.example/b?X-Amz-Signature=abc', 0)).toEqual({
    refused: 'refused a redirect from HTTPS to plain HTTP (http://cdn.example/b?X-Amz-Signature=***)',
  });
});

test(`more than ${MAX_REDIRECTS} redirects, other schemes and invalid targets are refused`, () => {
  expect(redirectTarget(from, '/b', MAX_REDIRECTS - 1)).toHaveProperty('url');
  expect(redirectTarget(from, '/b', MAX_REDIRECTS)).toEqual({ refused: 'more than 10 redirects' });
  expect(redirectTarget(from, 'file:///etc/passwd', 0)).toEqual({
    refused: 'redirected to unsupported URL file:///etc/passwd',
  });
  expect(redirectTarget(from, 'http://[::1', 0)).toHaveProperty('refused');
});
