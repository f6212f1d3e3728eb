import { chmod, chown, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { treeDigest } from './tree-digest.js';

let dir: string;
let src: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-tree-digest-'));
  src = join(dir, 'src');
  await mkdir(join(src, 'lib'), { recursive: true });
  await writeFile(join(src, 'package.json'), '{"name":"app"}\n');
  await writeFile(join(src, 'lib', 'index.js'), 'module.exports = 1;\n');
  await writeFile(join(src, 'notes.log'), 'scratch\n');
  await symlink('lib/index.js', join(src, 'main.js'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const noLogs = (rel: string): 'include' | 'exclude' => (rel.endsWith('.log') ? 'exclude' : 'include');

test.each<[string, () => Promise<unknown>]>([
  ["a file's content", () => writeFile(join(src, 'lib', 'index.js'), 'module.exports = 2;\n')],
  ["a file's mode only", () => chmod(join(src, 'package.json'), 0o600)],
  ["a file's owner only", () => chown(join(src, 'package.json'), 1000, 1000)],
  ['a new file', () => writeFile(join(src, 'lib', 'extra.js'), '\n')],
  ["a symlink's target", () => rm(join(src, 'main.js')).then(() => symlink('package.json', join(src, 'main.js')))],
  ["a directory's mode", () => chmod(join(src, 'lib'), 0o700)],
])('%s changes the digest', async (_what, change) => {
  const before = await treeDigest(src, { select: noLogs });
  await change();
  expect(await treeDigest(src, { select: noLogs })).not.toBe(before);
});

test.each<[string, () => Promise<unknown>]>([
  ['a modification time', () => utimes(join(src, 'package.json'), 1, 1)],
  ['an excluded file', () => writeFile(join(src, 'notes.log'), 'other scratch\n')],
  ['a new excluded file', () => writeFile(join(src, 'lib', 'debug.log'), '\n')],
])('%s leaves the digest alone', async (_what, change) => {
  const before = await treeDigest(src, { select: noLogs });
  await change();
  expect(await treeDigest(src, { select: noLogs })).toBe(before);
});

test('the same tree elsewhere has the same digest; a file source is itself, whatever its directory holds', async () => {
  const copy = join(dir, 'copy');
  await mkdir(join(copy, 'lib'), { recursive: true });
  await writeFile(join(copy, 'lib', 'index.js'), 'module.exports = 1;\n');
  await writeFile(join(copy, 'package.json'), '{"name":"app"}\n');
  await symlink('lib/index.js', join(copy, 'main.js'));
  await writeFile(join(copy, 'notes.log'), 'different, but excluded\n');
  expect(await treeDigest(copy, { select: noLogs })).toBe(await treeDigest(src, { select: noLogs }));
  expect(await treeDigest(join(copy, 'package.json'))).toBe(await treeDigest(join(src, 'package.json')));
  expect(await treeDigest(join(src, 'package.json'))).not.toBe(await treeDigest(join(src, 'lib', 'index.js')));
});

test("owners count unless the copy sets them itself; the source directory's own mode never does", async () => {
  const before = await treeDigest(src);
  const unowned = await treeDigest(src, { owners: false });
  await chown(join(src, 'lib', 'index.js'), 1000, 1000);
  await chmod(src, 0o700);
  expect(await treeDigest(src)).not.toBe(before);
  expect(await treeDigest(src, { owners: false })).toBe(unowned);
  await chown(join(src, 'lib', 'index.js'), 0, 0);
  expect(await treeDigest(src)).toBe(before);
});
