import { lstat, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { MountTargets, prepareMountPoints } from './mount-points.js';
import { Rootfs } from './rootfs.js';

test('in place (the rootfs is /) nothing is mounted: /dev, /proc, /sys, resolv.conf and hosts are the real ones', async () => {
  const prepared = await prepareMountPoints(new Rootfs('/'));
  expect(prepared.plan).toEqual({
    dev: false,
    proc: false,
    sys: false,
    resolvConf: false,
    hosts: false,
    hostname: false,
  });
  await prepared.cleanup();
});

/** A rootfs at BASE/root and an outside directory BASE/outside holding the sentinel d/x/ (empty, as rmdir would take it). */
async function setup(): Promise<{ rootfs: Rootfs; r: string; outside: string }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-mount-points-'));
  onTestFinished(() => rm(base, { recursive: true, force: true }));
  const outside = join(base, 'outside');
  await mkdir(join(outside, 'd', 'x'), { recursive: true });
  await mkdir(join(base, 'root'));
  return { rootfs: new Rootfs(join(base, 'root')), r: join(base, 'root'), outside };
}
const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

test('mount targets and their created parents are removed after the step; a directory the step filled stays', async () => {
  const { rootfs, r } = await setup();
  const targets = new MountTargets(rootfs);
  expect(await targets.prepare('/c/d/x', 'dir', true)).toEqual({ host: join(r, 'c/d/x') });
  expect(await targets.prepare('/e/secret', 'file', true)).toEqual({ host: join(r, 'e/secret') });
  await writeFile(join(r, 'c/output'), 'the step wrote this');
  await targets.cleanup();
  expect(await readdir(r)).toEqual(['c']);
  expect(await readdir(join(r, 'c'))).toEqual(['output']);
  // Where something was made: those directories' mtimes moved because of Kiln, not the step.
  expect(targets.touchedDirs().sort()).toEqual(['/', '/c', '/c/d', '/e']);
});

test.each([
  ['a symlink to the host directory', (outside: string) => outside],
  ['a symlink climbing out of the root', () => '../../outside'],
])('a step that swapped a created parent for %s: clean-up leaves the host alone', async (_what, target) => {
  const { rootfs, r, outside } = await setup();
  const targets = new MountTargets(rootfs);
  await targets.prepare('/c/d/x', 'dir', true);
  await rename(join(r, 'c'), join(r, 'c.old'));
  await symlink(target(outside), join(r, 'c'));
  await targets.cleanup();
  expect(await exists(join(outside, 'd', 'x'))).toBe(true);
  expect((await lstat(join(r, 'c'))).isSymbolicLink()).toBe(true);
});

test('a mount point /proc the step replaced by a symlink is left alone, without an error', async () => {
  const { rootfs, r, outside } = await setup();
  const prepared = await prepareMountPoints(rootfs);
  expect(prepared.plan.proc).toBe(true);
  await rm(join(r, 'proc'), { recursive: true });
  await symlink(join(outside, 'd', 'x'), join(r, 'proc'));
  await prepared.cleanup();
  expect(await exists(join(outside, 'd', 'x'))).toBe(true);
  expect(await readdir(r)).toEqual(['proc']);
});

test('etcFiles: a missing /etc and its resolv.conf, hosts and hostname are made empty for the step and removed after', async () => {
  const { rootfs, r } = await setup();
  const prepared = await prepareMountPoints(rootfs, { etcFiles: true });
  expect(prepared.plan).toMatchObject({ resolvConf: true, hosts: true, hostname: true });
  expect((await readdir(join(r, 'etc'))).sort()).toEqual(['hostname', 'hosts', 'resolv.conf']);
  await prepared.cleanup();
  expect(await readdir(r)).toEqual([]);
});

test("etcFiles: the image's own files stay as they are; only the missing ones are made, and /etc is touched", async () => {
  const { rootfs, r } = await setup();
  await mkdir(join(r, 'etc'));
  await writeFile(join(r, 'etc', 'hosts'), 'own\n');
  await mkdir(join(r, 'run'));
  await symlink('../run/systemd/resolve/stub-resolv.conf', join(r, 'etc', 'resolv.conf'));
  const prepared = await prepareMountPoints(rootfs, { etcFiles: true });
  expect(prepared.plan).toMatchObject({ resolvConf: true, hosts: true, hostname: true });
  // runc binds onto what the symlink names inside the rootfs: that file is made, and its parents.
  expect((await lstat(join(r, 'run/systemd/resolve/stub-resolv.conf'))).isFile()).toBe(true);
  expect(prepared.touchedDirs().sort()).toEqual(['/etc', '/run', '/run/systemd', '/run/systemd/resolve']);
  await prepared.cleanup();
  expect((await readdir(join(r, 'etc'))).sort()).toEqual(['hosts', 'resolv.conf']);
  expect(await readdir(join(r, 'run'))).toEqual([]);
});

test('etcFiles: a symlink into /proc, /dev or /sys, or one that loops, gets no file', async () => {
  const { rootfs, r } = await setup();
  await mkdir(join(r, 'etc'));
  await symlink('/proc/self/net/hosts', join(r, 'etc', 'hosts'));
  await symlink('hostname', join(r, 'etc', 'hostname'));
  const prepared = await prepareMountPoints(rootfs, { etcFiles: true });
  expect(prepared.plan).toMatchObject({ resolvConf: true, hosts: false, hostname: false });
  await prepared.cleanup();
  expect((await readdir(join(r, 'etc'))).sort()).toEqual(['hostname', 'hosts']);
});

test('etcFiles: an /etc that is not a directory gets no files and is no error', async () => {
  const { rootfs, r } = await setup();
  await writeFile(join(r, 'etc'), 'not a directory\n');
  const prepared = await prepareMountPoints(rootfs, { etcFiles: true });
  expect(prepared.plan).toMatchObject({ resolvConf: false, hosts: false, hostname: false });
  await prepared.cleanup();
  expect(await readdir(r)).toEqual(['etc']);
});
