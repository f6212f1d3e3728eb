import { expect, test } from 'vitest';
import { apiHost, hostKey, mayUsePlainHttp } from './transport.js';

const never = (): boolean => false;

test.each([
  ['localhost:5000', true],
  ['localhost', true],
  ['registry.localhost:5000', true],
  ['127.0.0.1:5000', true],
  ['[::1]:5000', true],
  ['10.1.2.3:5000', true],
  ['172.20.0.1', true],
  ['192.168.1.1:443', true],
  ['172.32.0.1', false],
  ['registry.example.com', false],
  ['docker.io', false],
])('plain HTTP fallback for %s without --insecure: %s (go-containerregistry heuristic)', (registry, expected) => {
  expect(mayUsePlainHttp(registry, never)).toBe(expected);
});

test('insecure registries may use plain HTTP', () => {
  expect(mayUsePlainHttp('registry.example.com', (r) => r === 'registry.example.com')).toBe(true);
});

test('Docker Hub is served by registry-1.docker.io', () => {
  expect(apiHost('docker.io')).toBe('registry-1.docker.io');
  expect(apiHost('index.docker.io')).toBe('registry-1.docker.io');
  expect(apiHost('ghcr.io')).toBe('ghcr.io');
});

test('hostKey fills in default ports and strips IPv6 brackets', () => {
  expect(hostKey('Example.com', '', 'https:')).toBe('example.com:443');
  expect(hostKey('example.com', '', 'http:')).toBe('example.com:80');
  expect(hostKey('[::1]', '5000', 'http:')).toBe('::1:5000');
});
