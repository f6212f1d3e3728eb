import { describe, expect, test } from 'vitest';
import {
  canonicalRegistry,
  formatReference,
  parseMirror,
  parseReference,
  ReferenceSyntaxError,
  remapReference,
} from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference normalises as Docker does', () => {
  test.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['registry-1.docker.io/user/app', 'docker.io/user/app:latest'],
    ['user/app', 'docker.io/user/app:latest'],
    ['user/team/app:v2', 'docker.io/user/team/app:v2'],
    ['ghcr.io/org/app', 'ghcr.io/org/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:1', 'localhost:5000/app:1'],
    ['127.0.0.1:5000/a/b/c:1', '127.0.0.1:5000/a/b/c:1'],
    ['[::1]/app', '[::1]/app:latest'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['[2001:db8::1]:5000/team/app:1.0', '[2001:db8::1]:5000/team/app:1.0'],
    ['[fe80::1]/app@' + D, '[fe80::1]/app@' + D],
    ['Registry.Example:443/app', 'Registry.Example:443/app:latest'],
    ['app@' + D, 'docker.io/library/app@' + D],
    ['app:1@' + D, 'docker.io/library/app:1@' + D],
    ['my-reg.example/a__b/c-d/e.f:tag_1.0-x', 'my-reg.example/a__b/c-d/e.f:tag_1.0-x'],
    ['  busybox  ', 'docker.io/library/busybox:latest'],
    ['localhost:5000', 'docker.io/library/localhost:5000'],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });

  test('the parts of a reference with tag and digest', () => {
    expect(parseReference(`[::1]:5000/app:1@${D}`)).toEqual({
      registry: '[::1]:5000',
      repository: 'app',
      tag: '1',
      digest: D,
    });
  });
});

describe('malformed references are refused saying why', () => {
  test.each([
    ['', /empty image reference/],
    ['busy box', /whitespace/],
    ['https://ghcr.io/app', /no URL scheme \(write ghcr\.io\/app\)/],
    ['Busybox', /must be lowercase/],
    ['ghcr.io/Org/app', /"Org\/app".*must be lowercase/],
    ['app:', /invalid tag ""/],
    ['app:-x', /invalid tag "-x"/],
    [`app:${'t'.repeat(129)}`, /invalid tag/],
    ['app@sha256:abc', /invalid digest "sha256:abc".*ALGORITHM:HEX/],
    [`app@sha256:${'A'.repeat(64)}`, /sha256 takes 64 lowercase hex digits/],
    [`app@sha256:${'a'.repeat(63)}`, /sha256 takes 64/],
    ['ghcr.io/', /invalid repository name ""/],
    ['a//b', /invalid repository name/],
    ['app/-x', /invalid repository name/],
    ['[::1/app', /IPv6 address must end with "]"/],
    ['[::1]x/app', /unexpected "x" after the IPv6 address/],
    ['[::g]/app', /is not an IPv6 address/],
    ['reg.example:port/app', /"port" is not a valid port/],
    ['-bad.example/app', /not a valid host name/],
    ['bad..example/app', /not a valid host name/],
    [`reg.example/${'a'.repeat(250)}`, /longer than 255/],
    ['[::1]:5000', /invalid repository name/],
  ])('%j', (input, message) => {
    expect(() => parseReference(input)).toThrow(ReferenceSyntaxError);
    expect(() => parseReference(input)).toThrow(message);
  });
});

describe('mirrors', () => {
  test.each([
    ['mirror.gcr.io', { registry: 'mirror.gcr.io', prefix: '' }],
    ['127.0.0.1:5000', { registry: '127.0.0.1:5000', prefix: '' }],
    ['[::1]:5000/proxy/hub/', { registry: '[::1]:5000', prefix: 'proxy/hub' }],
    ['index.docker.io', { registry: 'docker.io', prefix: '' }],
  ])('parseMirror(%s)', (spec, expected) => {
    expect(parseMirror(spec)).toEqual(expected);
  });

  test.each([
    ['https://mirror.example', /without a URL scheme/],
    ['mirror.example/UP', /invalid repository prefix/],
    ['mirror.example:x', /not a valid port/],
  ])('parseMirror refuses %s', (spec, message) => {
    expect(() => parseMirror(spec)).toThrow(message);
  });

  test('remapReference keeps the repository path, tag and digest under the mirror', () => {
    const ref = parseReference(`busybox:1@${D}`);
    expect(formatReference(remapReference(ref, parseMirror('mirror.example/hub')))).toBe(
      `mirror.example/hub/library/busybox:1@${D}`,
    );
    expect(formatReference(remapReference(parseReference('ghcr.io/org/app'), parseMirror('127.0.0.1:5000')))).toBe(
      '127.0.0.1:5000/org/app:latest',
    );
  });

  test('canonicalRegistry names Docker Hub docker.io', () => {
    expect(['index.docker.io', 'docker.io', 'Registry-1.Docker.io', 'ghcr.io'].map(canonicalRegistry)).toEqual([
      'docker.io',
      'docker.io',
      'docker.io',
      'ghcr.io',
    ]);
  });
});
