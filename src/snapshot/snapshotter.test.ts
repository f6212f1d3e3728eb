import { lstatSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { silentLogger, type Logger } from '../log.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { contentHasher, contentIdentity, factsOf } from '../rootfs/file-facts.js';
import { ContentCache } from './content-cache.js';
import { indexRootfs } from './file-index.js';
import { createSnapshotter, type SnapshotterOptions } from './snapshotter.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempRoot(): Promise<Rootfs> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-snap-'));
  dirs.push(dir);
  await mkdir(join(dir, 'etc'));
  await writeFile(join(dir, 'etc', 'conf'), 'one\n');
  await mkdir(join(dir, 'app', 'old'), { recursive: true });
  await writeFile(join(dir, 'app', 'old', 'f'), 'f');
  return new Rootfs(dir);
}
const snapshotter = (r: Rootfs, over: Partial<SnapshotterOptions> = {}): ReturnType<typeof createSnapshotter> =>
  createSnapshotter({ rootfs: r, logger: silentLogger, now: () => new Date(), ...over });
const paths = (changes: { kind: string; path: string }[]): string[] => changes.map((c) => `${c.kind} ${c.path}`);

test('the index after one RUN is the index before the next; steps that name their paths keep it current', async () => {
  const r = await tempRoot();
  const records: Record<string, unknown>[] = [];
  const logger: Logger = { ...silentLogger, debug: (_m, fields) => void records.push(fields ?? {}) };
  const s = snapshotter(r, { logger });
  let pending = await s.begin();
  await writeFile(join(r.root, 'etc', 'run1'), 'x');
  expect(paths(await pending.end())).toEqual(['upsert /etc/run1']);
  // A COPY replaces /app/old (a directory) by a file and adds /etc/copied, and says so.
  await rm(join(r.root, 'app', 'old'), { recursive: true });
  await writeFile(join(r.root, 'app', 'old'), 'now a file');
  await writeFile(join(r.root, 'etc', 'copied'), 'c');
  await s.pathsChanged([
    { kind: 'upsert', path: '/app/old' },
    { kind: 'upsert', path: '/etc/copied' },
  ]);
  pending = await s.begin();
  await writeFile(join(r.root, 'etc', 'run2'), 'y');
  // Neither the COPY's paths nor whiteouts of /app/old's former children belong to this RUN.
  expect(paths(await pending.end())).toEqual(['upsert /etc/run2']);
  expect(records.map((f) => f['files'])).toEqual([6, 7]);
  // The kept index is reused, not taken again: a change no step reported lands in the next RUN.
  await writeFile(join(r.root, 'etc', 'unreported'), 'u');
  pending = await s.begin();
  expect(paths(await pending.end())).toEqual(['upsert /etc/unreported']);
});

test('ignored paths are never indexed', async () => {
  const r = await tempRoot();
  const s = snapshotter(r, { ignore: ['/var/run'] });
  const pending = await s.begin();
  await mkdir(join(r.root, 'var', 'run'), { recursive: true });
  await writeFile(join(r.root, 'var', 'run', 'pid'), '1');
  expect(paths(await pending.end())).toEqual(['upsert /var']);
});

test('full mode: a new ctime with the recorded content is no change; a touch or a same-size rewrite is', async () => {
  const r = await tempRoot();
  const cache = new ContentCache();
  const conf = join(r.root, 'etc', 'conf');
  const hash = contentHasher().update('one\n');
  cache.record('/etc/conf', factsOf(lstatSync(conf)), contentIdentity(hash));
  const s = snapshotter(r, { mode: 'full', contentCache: cache });
  let pending = await s.begin();
  await chmod(conf, lstatSync(conf).mode & 0o7777); // moves the ctime alone
  expect(await pending.end()).toEqual([]);
  // Docker, Kaniko and Buildah record a file whose mtime alone moved: the image must carry it.
  pending = await s.begin();
  await utimes(conf, new Date(), new Date(978_307_200_000));
  expect(paths(await pending.end())).toEqual(['upsert /etc/conf']);
  pending = await s.begin();
  await writeFile(conf, 'two\n');
  await utimes(conf, new Date(), new Date(2_000_000_000_000));
  expect(paths(await pending.end())).toEqual(['upsert /etc/conf']);
  // redo mode sees the touch.
  const redo = snapshotter(r, { mode: 'redo' });
  pending = await redo.begin();
  await utimes(conf, new Date(), new Date(2_100_000_000_000));
  expect(paths(await pending.end())).toEqual(['upsert /etc/conf']);
});

test('a directory whose mtime alone moved is a change; one Kiln itself touched, or a COPY wrote into, is not', async () => {
  const r = await tempRoot();
  const s = snapshotter(r);
  let pending = await s.begin();
  await utimes(join(r.root, 'app'), new Date(), new Date(978_307_200_000));
  await writeFile(join(r.root, 'etc', 'tmp'), 't');
  await rm(join(r.root, 'etc', 'tmp'));
  expect(paths(await pending.end())).toEqual(['upsert /app', 'upsert /etc']);
  // A mount point made and removed in /etc by Kiln around the step.
  pending = await s.begin();
  await mkdir(join(r.root, 'etc', 'mnt'));
  await rm(join(r.root, 'etc', 'mnt'), { recursive: true });
  expect(await pending.end({ kilnTouched: ['/etc'] })).toEqual([]);
  // A COPY into /app/old: the kept index learns the new mtime of /app/old with the new file.
  await writeFile(join(r.root, 'app', 'old', 'copied'), 'c');
  await s.pathsChanged([{ kind: 'upsert', path: '/app/old/copied' }]);
  pending = await s.begin();
  expect(await pending.end()).toEqual([]);
});

test('a seeded index whose directory times extraction left stale: the first RUN does not report them', async () => {
  const r = await tempRoot();
  const s = snapshotter(r);
  const seeded = await indexRootfs(r, {});
  // Extraction noted /app before its deferred mtime was set (and before /app/old was written).
  const app = seeded.get('/app');
  if (app) seeded.set('/app', { ...app, mtimeMs: 1 });
  s.seed(seeded);
  const pending = await s.begin();
  await writeFile(join(r.root, 'etc', 'new'), 'n');
  expect(paths(await pending.end())).toEqual(['upsert /etc/new']);
});
