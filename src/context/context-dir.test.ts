import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { contextDirProblem } from './context-dir.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-context-dir-'));
  await writeFile(join(dir, 'file'), 'x');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('a directory is a usable context', async () => {
  expect(await contextDirProblem(dir)).toBeUndefined();
});

test('a path that names nothing is a context that does not exist, named', async () => {
  expect(await contextDirProblem(join(dir, 'workspace'))).toBe(`the build context ${dir}/workspace does not exist`);
  expect(await contextDirProblem(join(dir, 'file', 'below'))).toBe(
    `the build context ${dir}/file/below does not exist`,
  );
});

test('a file is not a directory', async () => {
  expect(await contextDirProblem(join(dir, 'file'))).toBe(`the build context ${dir}/file is not a directory`);
});
