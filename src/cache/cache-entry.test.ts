import { expect, test } from 'vitest';
import { entryAnnotations, entryTag, isExpired, keyOfAnnotations } from './cache-entry.js';
import { changedParts, KEY_PARTS, stepKey, type StepKeyInputs } from './step-key.js';

const inputs: StepKeyInputs = {
  platform: 'linux/amd64',
  base: 'scratch',
  below: [],
  step: 'COPY --chown=1000 package.json /app/',
  env: [],
  user: '',
  workdir: '/app',
  shell: ['/bin/sh', '-c'],
  sources: 'sha256:' + 'a'.repeat(64),
};

test('an entry is tagged by its key, within the tag grammar', () => {
  const tag = entryTag(stepKey(inputs));
  expect(tag).toMatch(/^[\w][\w.-]{0,127}$/);
  expect(`sha256:${tag}`).toBe(stepKey(inputs).digest);
});

test('the annotations give the key back, so a miss can name what changed against a stored entry', () => {
  const stored = stepKey(inputs);
  const back = keyOfAnnotations({ ...entryAnnotations(stored), 'org.opencontainers.image.created': 'x' });
  expect(back).toEqual(stored);
  const now = stepKey({ ...inputs, sources: 'sha256:' + 'b'.repeat(64) });
  expect(changedParts(back?.parts ?? {}, now.parts)).toEqual(['sources']);
  expect(keyOfAnnotations({ 'org.opencontainers.image.created': 'x' })).toBeUndefined();
  expect(keyOfAnnotations(undefined)).toBeUndefined();
});

test('every input of a key is a known part', () => {
  const all: StepKeyInputs = { ...inputs, sources: 'sha256:' + 'c'.repeat(64), mounts: ['type=tmpfs,target=/t'] };
  expect(Object.keys(stepKey(all).parts).sort()).toEqual([...KEY_PARTS]);
});

test.each<[string, string | undefined, boolean]>([
  ['a day old, TTL two weeks', '2026-12-02T12:00:00Z', false],
  ['three weeks old', '2026-11-12T12:00:00Z', true],
  ['no time', undefined, true],
  ['an unreadable time', 'yesterday', true],
  ['from the future', '2026-12-04T12:00:00Z', true],
])('an entry %s is expired: %s', (_what, created, expired) => {
  expect(isExpired(created, 14 * 24 * 3600 * 1000, new Date('2026-12-03T12:00:00Z'))).toBe(expired);
});
