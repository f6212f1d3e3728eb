import { expect, test } from 'vitest';
import { defaultInPlace, runsFromOwnImage, type DefaultInPlaceFacts } from './placement.js';

const POD: DefaultInPlaceFacts = {
  ownImage: true,
  verdict: { inContainer: true, evidence: ['$KUBERNETES_SERVICE_HOST'], weak: [] },
  hasRun: true,
  runnerMode: 'chroot',
};

test("Kiln's image in a pod without mount privileges, with a RUN, builds in place and says why", () => {
  expect(defaultInPlace(POD)).toMatch(
    /^isolation: in-place \(Kiln's image, \$KUBERNETES_SERVICE_HOST, without mount privileges: .*\/proc, \/dev, DNS and hosts/,
  );
});

test.each([
  ['not from its own image (a developer machine, another image)', { ownImage: false }],
  ['not in a container', { verdict: { inContainer: false, evidence: [], weak: ['/.dockerenv'] } }],
  ['no RUN: no step needs the pod', { hasRun: false }],
  ['runc isolates each step (SYS_ADMIN, or a host)', { runnerMode: 'namespaces' as const }],
])('stays in directories when %s', (_why, change: Partial<DefaultInPlaceFacts>) => {
  expect(defaultInPlace({ ...POD, ...change })).toBeUndefined();
});

test("Kiln's own image is where its program lives under /kaniko: the bundle at /kaniko/lib", () => {
  const self = { nodeExecutable: '/kaniko/bin/node' };
  expect(runsFromOwnImage({ ...self, kilnDir: '/kaniko/lib' })).toBe(true);
  expect(runsFromOwnImage({ ...self, kilnDir: '/work/main' })).toBe(false);
  expect(runsFromOwnImage({ ...self, kilnDir: '/kanikox/lib' })).toBe(false);
});
