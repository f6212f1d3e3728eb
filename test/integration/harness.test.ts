// Proves the end-to-end harness (busybox base, skopeo/umoci checker) before Kiln's tests rely on it.
import { link, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { makeBusyboxLayout, pushBusybox } from '../support/busybox.js';
import { tempDir } from '../support/executor.js';
import { inspectImage, type InspectedImage } from '../support/inspect.js';
import { startRegistry } from '../support/registry.js';
import { run, skopeo } from '../support/run.js';

async function expectBusybox(image: InspectedImage): Promise<void> {
  expect(await image.stat('/bin/sh')).toMatchObject({ type: 'symlink', linkTarget: 'busybox' });
  expect(await image.stat('/bin/busybox')).toMatchObject({ type: 'file', mode: 0o755, uid: 0 });
  expect(await image.stat('/tmp')).toMatchObject({ type: 'dir', mode: 0o1777 });
  expect(await image.stat('/root')).toMatchObject({ type: 'dir', mode: 0o700 });
  expect(await image.stat('/home/app')).toMatchObject({ type: 'dir', uid: 1000, gid: 1000 });
  expect(await image.readFile('/etc/passwd')).toContain('app:x:1000:1000:app:/home/app:/bin/sh');
  expect(await image.readFile('/etc/group')).toContain('app:x:1000:');
  expect(await image.exists('/usr/bin')).toBe(true);
  expect(await image.exists('/proc')).toBe(false);
  expect(await image.exists('/sys')).toBe(false);
  expect(image.config.config?.Cmd).toEqual(['sh']);
  expect(image.config.os).toBe('linux');
}

test('busybox pushed to the registry reads back with the layout digests', async () => {
  const reg = await startRegistry();
  onTestFinished(() => reg.stop());
  const layout = await makeBusyboxLayout(await tempDir('busybox'));
  const base = await pushBusybox(reg);
  expect(base.ref).toBe(`${reg.host}/base/busybox:latest`);
  expect(base.digest).toBe(layout.digest);
  const image = await inspectImage({ registry: base.ref });
  onTestFinished(() => image.cleanup());
  expect(image.digest).toBe(base.digest);
  expect(image.layers).toEqual(layout.layers);
  expect(image.config.rootfs.diff_ids).toEqual(layout.diffIds);
  await expectBusybox(image);
  const entries = await image.layerEntries(0);
  expect(entries).toContain('bin/sh');
  expect(entries).toContain('tmp/');
  expect(entries.filter((e) => e.startsWith('./') || e.includes('PaxHeaders'))).toEqual([]);
});

test('an OCI layout is inspected in place, by tag, and symlinks never leave the rootfs', async () => {
  const dir = await tempDir('layout');
  await makeBusyboxLayout(dir, 'one');
  const layout = await makeBusyboxLayout(dir, 'two');
  expect(layout.ref).toBe(dir);
  const image = await inspectImage({ ociLayout: dir, tag: 'two' });
  onTestFinished(() => image.cleanup());
  expect(image.digest).toBe(layout.digest);
  expect(image.manifest.layers[0]?.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
  await expectBusybox(image);
  // An absolute link must resolve inside the image, as in a chroot, not on the host.
  await symlink('/etc', join(image.rootfsDir, 'escape'));
  expect(await image.readFile('/escape/passwd')).toContain('app:x:1000');
  expect(await image.readFile('/bin/../escape/../etc/group')).toContain('nobody:x:65534:');
});

test('a docker-archive tarball is inspected like a registry image', async () => {
  const dir = await tempDir('archive');
  const layout = await makeBusyboxLayout(join(dir, 'layout'));
  const archive = join(dir, 'image.tar');
  await skopeo(['copy', '--quiet', `oci:${layout.ref}:latest`, `docker-archive:${archive}:base/busybox:latest`]);
  const image = await inspectImage({ dockerArchive: archive });
  onTestFinished(() => image.cleanup());
  expect(image.config.rootfs.diff_ids).toEqual(layout.diffIds);
  await expectBusybox(image);
});

test('whiteouts and hardlinks of a later zstd layer are applied, and its raw entries listed', async () => {
  const dir = await tempDir('zstd');
  const layout = await makeBusyboxLayout(join(dir, 'layout'));
  // A second layer made by umoci repack: deletes /etc/group, hardlinks /usr/bin/b to /tmp/a.
  const bundle = join(dir, 'bundle');
  await run('umoci', ['unpack', '--image', `${layout.ref}:latest`, bundle]);
  await writeFile(join(bundle, 'rootfs/tmp/a'), 'hi\n');
  await link(join(bundle, 'rootfs/tmp/a'), join(bundle, 'rootfs/usr/bin/b'));
  await rm(join(bundle, 'rootfs/etc/group'));
  await run('umoci', ['repack', '--image', `${layout.ref}:two`, bundle]);
  const zstd = join(dir, 'zstd');
  await skopeo([
    'copy',
    '--quiet',
    '--dest-compress',
    '--dest-compress-format',
    'zstd',
    `oci:${layout.ref}:two`,
    `oci:${zstd}:two`,
  ]);
  const image = await inspectImage({ ociLayout: zstd, tag: 'two' });
  onTestFinished(() => image.cleanup());
  expect(image.manifest.layers.map((l) => l.mediaType)).toEqual(
    Array(2).fill('application/vnd.oci.image.layer.v1.tar+zstd'),
  );
  expect(await image.layerEntries(1)).toEqual(expect.arrayContaining(['etc/.wh.group', 'usr/bin/b', 'tmp/a']));
  expect(await image.exists('/etc/group')).toBe(false);
  const [a, b] = [await image.stat('/tmp/a'), await image.stat('/usr/bin/b')];
  expect(a).toMatchObject({ type: 'file', nlink: 2, size: 3 });
  expect(b.ino).toBe(a.ino);
  expect(await image.readFile('/usr/bin/b')).toBe('hi\n');
});

test('the registry hands its access log to onAccessLog: one line per request, with status and bytes', async () => {
  const lines: string[] = [];
  const reg = await startRegistry({ onAccessLog: (l) => lines.push(l) });
  onTestFinished(() => reg.stop());
  const base = await pushBusybox(reg);
  const layer = base.layers[0] ?? '';
  const res = await fetch(`http://${reg.host}/v2/base/busybox/blobs/${layer}`);
  const size = (await res.arrayBuffer()).byteLength;
  await expect
    .poll(() => lines.find((l) => l.includes(`"GET /v2/base/busybox/blobs/${layer} HTTP/1.1" 200 ${size} `)))
    .toBeDefined();
});
