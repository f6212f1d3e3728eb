import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { PathFilter } from '../context/path-filter.js';
import { Rootfs } from '../rootfs/rootfs.js';
import { runMountsKey, type MountDigestEnv } from './run-mount-digest.js';
import type { RunMountSpec } from './run-mount-spec.js';

let ctxDir: string;
let env: MountDigestEnv;

beforeEach(async () => {
  ctxDir = await mkdtemp(join(tmpdir(), 'kiln-mount-digest-'));
  await mkdir(join(ctxDir, 'src'));
  await writeFile(join(ctxDir, 'src', 'main.go'), 'package main\n');
  await writeFile(join(ctxDir, 'src', 'debug.log'), 'noise\n');
  env = {
    contextDir: ctxDir,
    contextIgnore: new PathFilter(['**/*.log']),
    fromSource: () => Promise.resolve(new Rootfs(ctxDir)),
  };
});

afterEach(async () => {
  await rm(ctxDir, { recursive: true, force: true });
});

const bind: RunMountSpec = { type: 'bind', source: 'src', target: '/src', readonly: true };
const cache: RunMountSpec = {
  type: 'cache',
  id: '/root/.cache',
  target: '/root/.cache',
  readonly: false,
  sharing: 'shared',
  mode: 0o755,
  uid: 0,
  gid: 0,
};
const secret: RunMountSpec = {
  type: 'secret',
  id: 'npmrc',
  target: '/run/secrets/npmrc',
  required: true,
  mode: 0o400,
  uid: 0,
  gid: 0,
};

test("a bind of the context counts by what it shows: a kept file's content, never an ignored one's", async () => {
  const before = await runMountsKey([bind, cache, secret], env);
  await writeFile(join(ctxDir, 'src', 'debug.log'), 'more noise\n');
  expect(await runMountsKey([bind, cache, secret], env)).toEqual(before);
  await writeFile(join(ctxDir, 'src', 'main.go'), 'package main // changed\n');
  expect((await runMountsKey([bind, cache, secret], env))[0]).not.toBe(before[0]);
});

test('cache, tmpfs and secret mounts count by their spec only; a secret by its id, never a value', async () => {
  const [c, s] = await runMountsKey([cache, secret], env);
  expect(JSON.parse(c ?? '')).toMatchObject({ type: 'cache', id: '/root/.cache', sharing: 'shared' });
  expect(JSON.parse(s ?? '')).toEqual({ ...secret });
  const other = await runMountsKey([{ ...cache, sharing: 'locked' }], env);
  expect(other[0]).not.toBe(c);
});

test('a missing or ignored bind source is marked missing (the RUN itself then fails)', async () => {
  const [missing] = await runMountsKey([{ ...bind, source: 'nope' }], env);
  const [ignored] = await runMountsKey([{ ...bind, source: 'src/debug.log' }], env);
  expect(JSON.parse(missing ?? '')).toMatchObject({ content: 'missing' });
  expect(JSON.parse(ignored ?? '')).toMatchObject({ content: 'missing' });
});
