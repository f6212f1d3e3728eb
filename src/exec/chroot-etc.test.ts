import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { chrootEtc, type HostEtc } from './chroot-etc.js';

/** A build directory holding a rootfs (`root`) and a host's files (`host`), with the HostEtc naming them. */
async function setup(): Promise<{ base: string; root: string; host: HostEtc }> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-chroot-etc-'));
  onTestFinished(() => rm(base, { recursive: true, force: true }));
  await mkdir(join(base, 'root'));
  await mkdir(join(base, 'host'));
  await writeFile(join(base, 'host', 'resolv.conf'), 'nameserver 10.0.0.10\n');
  await writeFile(join(base, 'host', 'hosts'), '10.0.0.1 pod\n');
  const host = { hostname: 'pod-0', resolvConf: join(base, 'host', 'resolv.conf'), hosts: join(base, 'host', 'hosts') };
  return { base, root: join(base, 'root'), host };
}

const read = (p: string): Promise<string> => readFile(p, 'utf8');

test("an /etc without the files gets the host's for the step, and has none of them after", async () => {
  const { base, root, host } = await setup();
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  const restore = await chrootEtc(root, host);
  expect(await read(join(root, 'etc', 'resolv.conf'))).toBe('nameserver 10.0.0.10\n');
  expect(await read(join(root, 'etc', 'hosts'))).toBe('10.0.0.1 pod\n');
  expect(await read(join(root, 'etc', 'hostname'))).toBe('pod-0\n');
  expect((await lstat(join(root, 'etc', 'hosts'))).mode & 0o777).toBe(0o644);
  // The step writes to its copy: discarded with it, as with Docker's bind mount.
  await writeFile(join(root, 'etc', 'hosts'), 'the step wrote this\n');
  await restore();
  expect(await readdir(join(root, 'etc'))).toEqual(['passwd']);
  // Nothing left beside the rootfs either.
  expect((await readdir(base)).sort()).toEqual(['host', 'root']);
});

test("the image's own files are back as the same inodes with the same bytes and times", async () => {
  const { root, host } = await setup();
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc', 'hosts'), 'image\n');
  await symlink('/run/resolv.conf', join(root, 'etc', 'resolv.conf'));
  const before = await lstat(join(root, 'etc', 'hosts'));
  const restore = await chrootEtc(root, host);
  expect(await read(join(root, 'etc', 'hosts'))).toBe('10.0.0.1 pod\n');
  expect((await lstat(join(root, 'etc', 'resolv.conf'))).isFile()).toBe(true);
  // The step replaces its copy by a file of its own: the image's is what comes back.
  await writeFile(join(root, 'new'), 'swap\n');
  await rename(join(root, 'new'), join(root, 'etc', 'hosts'));
  await restore();
  const after = await lstat(join(root, 'etc', 'hosts'));
  expect([after.ino, after.mtimeMs, await read(join(root, 'etc', 'hosts'))]).toEqual([
    before.ino,
    before.mtimeMs,
    'image\n',
  ]);
  expect((await lstat(join(root, 'etc', 'resolv.conf'))).isSymbolicLink()).toBe(true);
  expect((await readdir(join(root, 'etc'))).sort()).toEqual(['hosts', 'resolv.conf']);
});

test('a missing /etc is made for the step and removed after, unless the step wrote into it', async () => {
  const { root, host } = await setup();
  const restore = await chrootEtc(root, host);
  expect((await readdir(join(root, 'etc'))).sort()).toEqual(['hostname', 'hosts', 'resolv.conf']);
  await restore();
  expect(await readdir(root)).toEqual([]);
  const again = await chrootEtc(root, host);
  await writeFile(join(root, 'etc', 'motd'), 'hello\n');
  await again();
  expect(await readdir(join(root, 'etc'))).toEqual(['motd']);
});

test('an /etc the step swapped for a symlink to a host directory: the files there are left alone', async () => {
  const { base, root, host } = await setup();
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc', 'hosts'), 'image\n');
  const outside = join(base, 'outside');
  await mkdir(outside);
  for (const name of ['hosts', 'resolv.conf', 'hostname']) await writeFile(join(outside, name), `outside ${name}\n`);
  const restore = await chrootEtc(root, host);
  await rename(join(root, 'etc'), join(root, 'etc.old'));
  await symlink(outside, join(root, 'etc'));
  await restore();
  for (const name of ['hosts', 'resolv.conf', 'hostname'])
    expect(await read(join(outside, name))).toBe(`outside ${name}\n`);
});

test('an /etc that is a symlink or a file, or a directory at one of the names, is not touched', async () => {
  const { root, host } = await setup();
  await symlink('/usr/etc', join(root, 'etc'));
  await (
    await chrootEtc(root, host)
  )();
  expect(await readdir(root)).toEqual(['etc']);
  await rm(join(root, 'etc'));
  await mkdir(join(root, 'etc', 'hosts'), { recursive: true });
  const restore = await chrootEtc(root, host);
  expect((await lstat(join(root, 'etc', 'hosts'))).isDirectory()).toBe(true);
  await restore();
  expect(await readdir(join(root, 'etc'))).toEqual(['hosts']);
});

test('in place (the rootfs is /) nothing is put anywhere', async () => {
  const { host } = await setup();
  const before = await lstat('/etc/hosts');
  const restore = await chrootEtc('/', host);
  expect((await lstat('/etc/hosts')).ino).toBe(before.ino);
  await restore();
  expect((await lstat('/etc/hosts')).ctimeMs).toBe(before.ctimeMs);
});
