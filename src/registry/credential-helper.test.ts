import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, onTestFinished, test } from 'vitest';
import { credentialsFromHelper, parseHelperOutput, spawnHelperRunner } from './credential-helper.js';

test.each([
  ['username and secret', '{"ServerURL":"r","Username":"u","Secret":"s"}', { username: 'u', password: 's' }],
  ['identity token', '{"Username":"<token>","Secret":"rt"}', { identityToken: 'rt' }],
  ['empty secret', '{"Username":"u","Secret":""}', undefined],
  ['not JSON', 'oops', undefined],
])('parseHelperOutput: %s', (_name, stdout, expected) => {
  expect(parseHelperOutput(stdout)).toEqual(expected);
});

test('spawnHelperRunner runs a real helper from the PATH it is given, with the server on stdin', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-helper-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const helper = join(dir, 'docker-credential-fake');
  await writeFile(
    helper,
    '#!/bin/sh\nread server\n[ "$1" = get ] || exit 3\nprintf \'{"ServerURL":"%s","Username":"u","Secret":"s-%s"}\' "$server" "$server"\n',
  );
  await chmod(helper, 0o755);
  const run = spawnHelperRunner({ PATH: `${dir}:/usr/bin:/bin` });
  expect(await credentialsFromHelper(run, 'fake', 'r.example', 'r.example')).toEqual({
    username: 'u',
    password: 's-r.example',
  });
  await expect(credentialsFromHelper(run, 'absent', 'r.example', 'r.example')).rejects.toThrow(
    'program not found on PATH',
  );
});

test('helper names cannot smuggle paths', async () => {
  const run = spawnHelperRunner({ PATH: '/nonexistent' });
  await expect(credentialsFromHelper(run, '../../bin/sh', 'r', 'r')).rejects.toThrow('invalid helper name');
});
