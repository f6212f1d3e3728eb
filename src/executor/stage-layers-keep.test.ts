/**
 * An in-place build's kept paths in a stage's layering, on a temp directory standing in for `/`:
 * base extraction is told to skip them, snapshots and layers never capture them.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { BlobStore } from '../cache/blob-store.js';
import { silentLogger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { createStageLayers } from './stage-layers.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

test('kept paths reach extraction, and a RUN snapshot ignores them besides the --ignore-paths', async () => {
  const base = await mkdtemp(join(tmpdir(), 'kiln-keep-layers-'));
  dirs.push(base);
  const rootfs = new Rootfs(join(base, 'root'));
  for (const d of ['kaniko', 'workspace', 'var/run', 'etc']) await mkdir(join(rootfs.root, d), { recursive: true });
  const keep = ['/kaniko', '/workspace'];
  const layers = createStageLayers({
    rootfs,
    store: new BlobStore(join(base, 'blobs')),
    logger: silentLogger,
    now: () => new Date(0),
    signal: new AbortController().signal,
    tools: {},
    settings: { snapshotMode: 'full', singleSnapshot: false, ignorePaths: ['/var/run'], compression: 'gzip' },
    keep,
  });
  expect(layers.extraction.ignore).toEqual(keep);
  const snapshot = await layers.snapshotter!.begin();
  await writeFile(join(rootfs.root, 'kaniko/blob'), 'x');
  await writeFile(join(rootfs.root, 'workspace/out'), 'x');
  await writeFile(join(rootfs.root, 'var/run/pid'), 'x');
  await writeFile(join(rootfs.root, 'etc/new'), 'x');
  const changes = await snapshot.end();
  expect(changes.map((c) => c.path)).toEqual(['/etc/new']);
  expect(await layers.step({ changes, fromSnapshot: true })).toBeDefined();
  await layers.finish();
});

test('without kept paths extraction skips nothing', () => {
  const layers = createStageLayers({
    rootfs: new Rootfs('/nonexistent'),
    store: new BlobStore('/nonexistent/blobs'),
    logger: silentLogger,
    now: () => new Date(0),
    signal: new AbortController().signal,
    tools: {},
    settings: { snapshotMode: 'full', singleSnapshot: false, ignorePaths: ['/var/run'], compression: 'gzip' },
  });
  expect(layers.extraction.ignore).toBeUndefined();
});
