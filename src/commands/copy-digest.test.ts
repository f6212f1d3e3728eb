import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import { parseDockerfile } from '../dockerfile/parse.js';
import { copySourcesDigest } from './copy-digest.js';
import type { StageState, StepContext } from './step.js';

let ctxDir: string;
const state: StageState = { config: { Env: ['V=1'] }, args: new Map(), escape: '\\', cmdSet: false };

beforeEach(async () => {
  ctxDir = await mkdtemp(join(tmpdir(), 'kiln-copy-digest-'));
  await mkdir(join(ctxDir, 'src'));
  await writeFile(join(ctxDir, 'package.json'), '{}\n');
  await writeFile(join(ctxDir, 'src', 'a.js'), 'a\n');
  await writeFile(join(ctxDir, 'src', 'b.test.js'), 'b\n');
  await writeFile(join(ctxDir, 'secret.env'), 'X=1\n');
});

afterEach(async () => {
  await rm(ctxDir, { recursive: true, force: true });
});

/** The digest of a COPY line against the context, `.dockerignore` patterns `ignore`. */
async function digest(line: string, ignore: string[] = []): Promise<string | undefined> {
  const ins = parseDockerfile(`FROM scratch\n${line}\n`).stages[0]?.instructions[0] as CopyInstruction;
  // Only what gathering the sources reads: the context and its .dockerignore, no --from.
  const ctx = { contextDir: ctxDir, dockerignore: { patterns: ignore }, planned: {} } as unknown as StepContext;
  return copySourcesDigest(ins, state, ctx);
}

test('a COPY changes its key when a file it takes changes, never for one it leaves out', async () => {
  const all = await digest('COPY . /app/', ['secret.env']);
  const src = await digest('COPY src /app/src', []);
  const noTests = await digest('COPY --exclude=*.test.js src /app/src');
  await writeFile(join(ctxDir, 'secret.env'), 'X=2\n');
  expect(await digest('COPY . /app/', ['secret.env'])).toBe(all);
  await writeFile(join(ctxDir, 'src', 'b.test.js'), 'b2\n');
  expect(await digest('COPY --exclude=*.test.js src /app/src')).toBe(noTests);
  expect(await digest('COPY src /app/src')).not.toBe(src);
  expect(await digest('COPY . /app/', ['secret.env'])).not.toBe(all);
});

test("a context file's mode counts, its owner does not (COPY sets owners); wildcards and heredocs count", async () => {
  const before = await digest('COPY src/*.js /app/');
  await chown(join(ctxDir, 'src', 'a.js'), 1000, 1000);
  expect(await digest('COPY src/*.js /app/')).toBe(before);
  await chmod(join(ctxDir, 'src', 'a.js'), 0o755);
  expect(await digest('COPY src/*.js /app/')).not.toBe(before);
  const doc = await digest('COPY <<EOF /app/note\nhello $V\nEOF');
  expect(doc).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(await digest('COPY <<EOF /app/note\nhello again\nEOF')).not.toBe(doc);
});

test('ADD of a URL is not cacheable before it is fetched', async () => {
  expect(await digest('ADD https://example.com/app.tar.gz /app/')).toBeUndefined();
});
