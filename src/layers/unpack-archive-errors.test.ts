/**
 * Errors keep their class: what the archive's bytes cause (a malformed tar, the stream feeding it
 * failing on corrupt compression or a refusing decompressor) is an IntegrityError, as before; a
 * bug in the extraction code keeps its class and reaches the CLI as a bug (exit 1 with its stack).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { tarOf } from '../../test/support/tar-fixture.js';
import { BuildError, IntegrityError } from '../errors.js';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { unpackArchive } from './unpack-archive.js';
import { peekBytes, TAR_BLOCK } from './unpack-archive-sniff.js';
import { ArchiveWriter } from './unpack-archive-writer.js';

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function rootfs(): Promise<Rootfs> {
  const base = await mkdtemp(join(tmpdir(), 'kiln-unpack-errors-'));
  dirs.push(base);
  await mkdir(join(base, 'root', 'dest'), { recursive: true });
  return new Rootfs(join(base, 'root'));
}

const unpack = async (stream: Readable): Promise<unknown> =>
  unpackArchive(await rootfs(), '/dest', stream, { archiveName: 'a.tar', logger: silentLogger }).then(
    () => new Error('did not fail'),
    (err: unknown) => err,
  );

/** Bytes through gunzip, the way add-archive.ts decompresses: a failure surfaces on the stream read. */
const gunzipped = (bytes: Buffer): Readable => pipeline(Readable.from([bytes]), createGunzip(), () => undefined);

/** A stream that gives `head`, then fails the way an external decompressor's output does. */
function failingAfter(head: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(head);
      } else {
        this.destroy(new Error('xz exited with status 1: File format not recognized'));
      }
    },
  });
}

describe('what the archive bytes cause is an IntegrityError, as before', () => {
  test.each([
    [
      'a truncated tar',
      async () => Readable.from([(await tarOf([{ name: 'big', content: 'x'.repeat(5000) }])).subarray(0, 1024)]),
    ],
    ['a tar with a bad header checksum', async () => Readable.from([Buffer.alloc(1024, 0x41)])],
    [
      'corrupt gzip data',
      async () => {
        const gz = gzipSync(await tarOf([{ name: 'big', content: randomBytes(20_000).toString('hex') }]));
        gz.fill(0x55, 40, 400);
        return gunzipped(gz);
      },
    ],
    [
      'truncated gzip data',
      async () => {
        const gz = gzipSync(await tarOf([{ name: 'big', content: 'x'.repeat(50_000) }]));
        return gunzipped(gz.subarray(0, gz.length - 30));
      },
    ],
    [
      'truncated gzip data behind a peek (as add-archive.ts reads it)',
      async () => {
        const gz = gzipSync(await tarOf([{ name: 'big', content: randomBytes(20_000).toString('hex') }]));
        return (await peekBytes(gunzipped(gz.subarray(0, gz.length - 30)), TAR_BLOCK)).stream;
      },
    ],
    [
      'a decompressor failing mid-stream',
      async () => failingAfter((await tarOf([{ name: 'big', content: 'x'.repeat(5000) }])).subarray(0, 1536)),
    ],
  ])('%s', async (_, make) => {
    const err = await unpack(await make());
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).message).toMatch(/^ADD a\.tar: not a valid \(compressed\) tar archive: /);
  });
});

test('a bug while writing an entry keeps its class and identity', async () => {
  const bug = new TypeError('cannot read properties of undefined');
  vi.spyOn(ArchiveWriter.prototype, 'apply').mockRejectedValueOnce(bug);
  const err = await unpack(Readable.from([await tarOf([{ name: 'a', content: 'x' }])]));
  expect(err).toBe(bug);
  expect(err).not.toBeInstanceOf(BuildError);
});
