import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { IntegrityError } from '../errors.js';
import { MAX_IMAGE_FILE_BYTES, readRootfsFile } from './read.js';
import { Rootfs } from './rootfs.js';

const run = promisify(execFile);
let base: string;
let rootfs: Rootfs;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-read-'));
  rootfs = new Rootfs(join(base, 'root'));
  await mkdir(join(rootfs.root, 'etc'), { recursive: true });
  await writeFile(join(base, 'host-passwd'), 'host:x:0:0::/:/bin/sh\n');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const at = (p: string): string => join(rootfs.root, p);

test.each([
  [
    'a regular file',
    async (): Promise<void> => writeFile(at('etc/passwd'), 'root:x:0:0::/:/bin/sh\n'),
    'root:x:0:0::/:/bin/sh\n',
  ],
  [
    'a file of exactly the cap',
    async (): Promise<void> => writeFile(at('etc/passwd'), Buffer.alloc(MAX_IMAGE_FILE_BYTES, 0x23)),
    '#'.repeat(MAX_IMAGE_FILE_BYTES),
  ],
  [
    'a symlink inside the rootfs',
    async (): Promise<void> => {
      await writeFile(at('etc/real'), 'real\n');
      await symlink('real', at('etc/passwd'));
    },
    'real\n',
  ],
  // An absolute target resolves inside the rootfs, never to the host's file of that name.
  [
    'an absolute symlink to a host path',
    async (): Promise<void> => symlink(join(base, 'host-passwd'), at('etc/passwd')),
    undefined,
  ],
  ['nothing', async (): Promise<void> => undefined, undefined],
])('%s is read as such', async (_what, plant, expected) => {
  await plant();
  expect(await readRootfsFile(rootfs, '/etc/passwd')).toBe(expected);
});

test.each([
  [
    'a fifo',
    async (): Promise<void> => {
      await run('mkfifo', [at('etc/passwd')]);
    },
    'a fifo, not a regular file',
  ],
  [
    'a character device (/dev/zero)',
    async (): Promise<void> => {
      await run('mknod', [at('etc/passwd'), 'c', '1', '5']);
    },
    'a character device, not a regular file',
  ],
  [
    'a symlink to a fifo',
    async (): Promise<void> => {
      await run('mkfifo', [at('etc/p')]);
      await symlink('/etc/p', at('etc/passwd'));
    },
    'a fifo, not a regular file',
  ],
  ['a directory', async (): Promise<void> => mkdir(at('etc/passwd')), 'a directory, not a regular file'],
  [
    'a file over the cap',
    async (): Promise<void> => writeFile(at('etc/passwd'), Buffer.alloc(MAX_IMAGE_FILE_BYTES + 1)),
    `larger than ${MAX_IMAGE_FILE_BYTES} bytes`,
  ],
])(
  '%s is refused as hostile, without blocking',
  async (_what, plant, why) => {
    await plant();
    const err = await readRootfsFile(rootfs, '/etc/passwd').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(String(err)).toContain(`/etc/passwd in the image is ${why}`);
  },
  5_000,
);
