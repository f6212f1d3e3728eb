import { describe, expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { parseBuildOptions } from './options.js';
import { parseDuration } from './registry-options.js';

const opts = (
  raw: Parameters<typeof parseBuildOptions>[0],
  env: Record<string, string> = {},
): ReturnType<typeof parseBuildOptions> => parseBuildOptions({ push: false, ...raw }, env);

describe('TLS material per registry', () => {
  test('--registry-certificate REG=PATH, Docker Hub keys in any spelling', () => {
    const o = opts({
      registryCertificate: ['reg.example:5000=/certs/ca.pem', 'index.docker.io=/certs/hub.pem', '[::1]:5000=/c=d.pem'],
    });
    expect([...o.registryCertificates]).toEqual([
      ['reg.example:5000', '/certs/ca.pem'],
      ['docker.io', '/certs/hub.pem'],
      ['[::1]:5000', '/c=d.pem'],
    ]);
  });

  test('--registry-client-cert REG=CERT,KEY', () => {
    expect([
      ...opts({ registryClientCert: ['reg.example=/c/client.crt,/c/client.key'] }).registryClientCertificates,
    ]).toEqual([['reg.example', { cert: '/c/client.crt', key: '/c/client.key' }]]);
  });

  test.each([
    [
      { registryCertificate: ['/certs/ca.pem'] },
      /--registry-certificate "\/certs\/ca.pem": expected REGISTRY=CA_CERT_PATH/,
    ],
    [{ registryCertificate: ['reg.example='] }, /expected REGISTRY=CA_CERT_PATH/],
    [{ registryCertificate: ['https://reg.example=/ca.pem'] }, /is not a valid (host name|port)/],
    [
      { registryClientCert: ['reg.example=/c/client.crt'] },
      /--registry-client-cert "reg.example=\/c\/client.crt": expected REGISTRY=CERT_PATH,KEY_PATH/,
    ],
    [{ registryClientCert: ['reg.example=a,b,c'] }, /expected REGISTRY=CERT_PATH,KEY_PATH/],
  ])('malformed values are usage errors: %j', (raw, message) => {
    expect(() => opts(raw)).toThrow(UsageError);
    expect(() => opts(raw)).toThrow(message);
  });
});

describe('mirrors and maps', () => {
  test('maps first, then mirrors of Docker Hub; flags before the environment; ";" separates pairs', () => {
    const o = opts(
      {
        registryMap: ['index.docker.io=map.example/hub;ghcr.io=gh-mirror.example'],
        registryMirror: ['mirror.example'],
      },
      { KANIKO_REGISTRY_MIRROR: 'env-mirror.example:5000', KANIKO_REGISTRY_MAP: 'quay.io=q.example' },
    );
    expect(
      Object.fromEntries([...o.registryMaps].map(([k, v]) => [k, v.map((t) => `${t.registry}/${t.prefix}`)])),
    ).toEqual({
      'docker.io': ['map.example/hub', 'mirror.example/', 'env-mirror.example:5000/'],
      'ghcr.io': ['gh-mirror.example/'],
      'quay.io': ['q.example/'],
    });
  });

  test.each([
    [
      { registryMirror: ['https://mirror.example'] },
      /--registry-mirror "https:\/\/mirror.example": a mirror is host\[:port\]\[\/prefix\], without a URL scheme/,
    ],
    [{ registryMap: ['mirror.example'] }, /--registry-map "mirror.example": expected ORIGINAL=MIRROR/],
    [{ registryMap: ['ghcr.io=bad host'] }, /--registry-map/],
  ])('malformed mirrors are usage errors: %j', (raw, message) => {
    expect(() => opts(raw)).toThrow(message);
  });

  test('--skip-default-registry-fallback', () => {
    expect(opts({ skipDefaultRegistryFallback: true }).skipDefaultRegistryFallback).toBe(true);
    expect(opts({}).skipDefaultRegistryFallback).toBe(false);
  });
});

describe('retries and push policy', () => {
  test('counts from flag strings; default 0', () => {
    const o = opts({
      pushRetry: '3',
      imageDownloadRetry: '2',
      pushIgnoreImmutableTagErrors: true,
    });
    expect([o.pushRetry, o.imageDownloadRetry, o.pushIgnoreImmutableTagErrors]).toEqual([3, 2, true]);
    expect([opts({}).pushRetry, opts({}).imageDownloadRetry]).toEqual([0, 0]);
  });

  test.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['250ms', 250],
    ['90', 90_000],
    ['2h', 7_200_000],
  ])('--network-timeout %s is %d ms', (v, ms) => {
    expect(opts({ networkTimeout: v }).networkTimeoutMs).toBe(ms);
  });

  test('--network-timeout: absent means the defaults; nonsense, zero and over a day are refused', () => {
    expect(opts({}).networkTimeoutMs).toBeUndefined();
    for (const v of ['', 'x', '0', '0s', '-5s', '5 s', '25h', '1d'])
      expect(() => opts({ networkTimeout: v }), v).toThrow(/--network-timeout ".*": expected a duration/);
    expect(parseDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseDuration('10µs')).toBe(0.01);
  });

  test.each(['-1', 'x', '1.5'])('--push-retry %s is refused', (v) => {
    expect(() => opts({ pushRetry: v })).toThrow(/invalid --push-retry/);
  });

  test('--insecure-registry and --skip-tls-verify-registry match Docker Hub in any spelling', () => {
    const o = opts({ insecureRegistry: ['index.docker.io'], skipTlsVerifyRegistry: ['registry-1.docker.io'] });
    expect(o.insecurePull('docker.io')).toBe(true);
    expect(o.skipTlsVerifyPush('docker.io')).toBe(true);
  });
});
