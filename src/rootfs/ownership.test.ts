import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { mkdirAll } from './mkdir.js';
import { CHOWN, ownershipFor, RecordedOwnership } from './ownership.js';
import { Rootfs } from './rootfs.js';

test.each([
  { recordUnlessRoot: true, euid: 0, records: false },
  { recordUnlessRoot: true, euid: 1000, records: true },
  { recordUnlessRoot: false, euid: 1000, records: false },
  { recordUnlessRoot: true, euid: undefined, records: false },
])('asked to record: $recordUnlessRoot, euid $euid → records: $records', ({ recordUnlessRoot, euid, records }) => {
  const got = ownershipFor(recordUnlessRoot, euid);
  expect(got instanceof RecordedOwnership).toBe(records);
  if (!records) expect(got).toBe(CHOWN); // as root, a build always sets owners for real
});

test('a recording rootfs notes the owners mkdirAll gives and leaves the directories the process’s', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-ownership-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const recorded = new RecordedOwnership();
  const rootfs = new Rootfs(join(dir, 'root'), recorded);
  await mkdir(rootfs.root);
  expect(await mkdirAll(rootfs, '/a/b', { uid: 7, gid: 8 })).toEqual(['/a', '/a/b']);
  expect([...recorded.wanted]).toEqual([
    [join(rootfs.root, 'a'), { uid: 7, gid: 8 }],
    [join(rootfs.root, 'a', 'b'), { uid: 7, gid: 8 }],
  ]);
  const st = await lstat(join(rootfs.root, 'a', 'b'));
  expect([st.uid, st.gid]).toEqual([process.geteuid?.(), process.getegid?.()]);
});
