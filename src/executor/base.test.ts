import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { expect, test } from 'vitest';
import { BlobStore } from '../cache/blob-store.js';
import { RegistryError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { sha256Of } from '../oci/digest.js';
import { assembleImage, type Image } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { tempDir } from '../../test/support/executor.js';
import { tarOf } from '../../test/support/tar-fixture.js';
import { unpackBase } from './base.js';

/** A one-layer image whose layer fails to download `failures` times with a 503, then succeeds. */
async function flakyImage(failures: number): Promise<{ image: Image; opens: () => number }> {
  const tar = await tarOf([{ name: 'hello.txt', content: 'hello\n' }]);
  const gz = gzipSync(tar);
  let opens = 0;
  const image = assembleImage(
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Of(tar)] } },
    [
      {
        descriptor: { mediaType: MediaType.ociLayerGzip, digest: sha256Of(gz), size: gz.length },
        diffId: sha256Of(tar),
        open: () => {
          opens++;
          if (opens <= failures)
            return Promise.reject(
              new RegistryError('fetching blob: 503 Service Unavailable', { registry: 'r.example', status: 503 }),
            );
          return Promise.resolve(Readable.from([gz]));
        },
      },
    ],
  );
  return { image, opens: () => opens };
}

async function unpack(image: Image, retries: number, logger: Logger = silentLogger): Promise<Rootfs> {
  const work = await tempDir('unpack-retry');
  const rootfs = new Rootfs(join(work, 'rootfs'));
  await mkdir(rootfs.root);
  await unpackBase(image, rootfs, {
    imageName: 'r.example/app',
    store: new BlobStore(join(work, 'blobs')),
    logger,
    signal: new AbortController().signal,
    pullRetries: { retries, sleep: () => Promise.resolve() },
  });
  return rootfs;
}

test('--image-fs-extract-retry: a layer pull that fails is tried again, and the filesystem extracted', async () => {
  const { image, opens } = await flakyImage(2);
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) };
  const rootfs = await unpack(image, 2, logger);
  expect(await readFile(join(rootfs.root, 'hello.txt'), 'utf8')).toBe('hello\n');
  expect(opens()).toBe(3);
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toMatch(/--image-fs-extract-retry.*503/);
});

test('without --image-fs-extract-retry the first failure is final', async () => {
  const { image, opens } = await flakyImage(1);
  await expect(unpack(image, 0)).rejects.toThrow(/503 Service Unavailable/);
  expect(opens()).toBe(1);
});
