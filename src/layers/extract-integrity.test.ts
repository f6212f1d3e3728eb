/** extractLayer's integrity checks: the diff_id of the uncompressed tar, and who is blamed for an OS error (the layer: exit 5, the host: exit 7). */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, expect, test } from 'vitest';
import { tarOf } from '../../test/support/tar-fixture.js';
import { FilesystemError, IntegrityError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Digest } from '../oci/digest.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { extractLayer } from './extract.js';
import type { SpecialFileMaker } from './tools.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempRoot(): Promise<Rootfs> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-extract-integrity-'));
  dirs.push(base);
  await mkdir(join(base, 'root'));
  return new Rootfs(join(base, 'root'));
}
const sha256 = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('the uncompressed tar, trailing zero blocks and padding included, is checked against the diff_id', async () => {
  // Some writers pad the archive to a 10 KiB record: the diff_id covers those bytes too.
  const tar = Buffer.concat([await tarOf([{ name: 'a', content: 'x' }]), Buffer.alloc(8192)]);
  await extractLayer(await tempRoot(), Readable.from([gzipSync(tar)]), {
    layerName: 'L1',
    logger: silentLogger,
    diffId: sha256(tar),
  });
  const wrong = sha256(Buffer.from('other'));
  const err = await extractLayer(await tempRoot(), Readable.from([gzipSync(tar)]), {
    layerName: 'L1',
    logger: silentLogger,
    diffId: wrong,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(IntegrityError);
  expect((err as Error).message).toBe(
    `L1: diff_id mismatch: the image config says ${wrong}, the uncompressed layer is ${sha256(tar)}`,
  );
});

/** A mknod hook failing as the OS would with `code`. */
const failingMknod =
  (code: string, syscall = 'mknod'): SpecialFileMaker =>
  () =>
    Promise.reject(Object.assign(new Error(`${code}: failed, ${syscall}`), { code, syscall }));

test.each([
  ['ENAMETOOLONG', 'mknod', IntegrityError],
  ['EINVAL', 'mknod', IntegrityError],
  ['ENOSPC', 'mknod', FilesystemError],
  ['EROFS', 'mknod', FilesystemError],
  ['EACCES', 'mknod', FilesystemError],
  ['EIO', 'mknod', FilesystemError],
  // A host program that could not be started is never the layer's fault.
  ['ENOENT', 'spawn /usr/bin/mknod', FilesystemError],
] as const)('an OS error %s (%s) while applying an entry is blamed on %o', async (code, syscall, kind) => {
  const tar = await tarOf([{ name: 'p', type: 'fifo' }]);
  const err = await extractLayer(await tempRoot(), Readable.from([tar]), {
    layerName: 'L1',
    logger: silentLogger,
    mknod: failingMknod(code, syscall),
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(kind);
  expect((err as Error).message).toMatch(/^layer L1: creating fifo \/p: /);
});
