import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { bytesOfName, nameFromBytes } from '../oci/file-names.js';
import {
  lstat,
  lstatSync,
  mkdir,
  mkdirSync,
  readdir,
  readdirSync,
  readlink,
  readlinkSync,
  rmSync,
  symlinkSync,
  systemPath,
} from './host-fs.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kiln-host-fs-'));
  dirs.push(d);
  return d;
}
const BAD = nameFromBytes(Buffer.from('bad\xffname', 'latin1'));
const TWIN = 'bad\ufffdname';

test('a valid path goes to the system as the same string; an escaped one as its bytes', () => {
  expect(systemPath('/etc/passwd')).toBe('/etc/passwd');
  expect(systemPath(`/x/${BAD}`)).toEqual(Buffer.from('/x/bad\xffname', 'latin1'));
});

test('listings and link targets keep the bytes, and a name and its U+FFFD twin stay apart', async () => {
  const d = await temp();
  fs.writeFileSync(Buffer.from(`${d}/bad\xffname`, 'latin1'), 'raw');
  fs.writeFileSync(join(d, TWIN), 'twin');
  fs.writeFileSync(join(d, 'plain'), 'plain');
  expect(readdirSync(d).sort()).toEqual([BAD, TWIN, 'plain'].sort());
  expect((await readdir(d)).sort()).toEqual([BAD, TWIN, 'plain'].sort());
  expect(lstatSync(join(d, BAD)).size).toBe(3);
  expect((await lstat(join(d, BAD))).size).toBe(3);
  symlinkSync(BAD, join(d, `l-${BAD}`));
  expect(fs.readlinkSync(Buffer.from(`${d}/l-bad\xffname`, 'latin1'), { encoding: 'buffer' })).toEqual(
    bytesOfName(BAD),
  );
  expect(readlinkSync(join(d, `l-${BAD}`))).toBe(BAD);
  expect(await readlink(join(d, `l-${BAD}`))).toBe(BAD);
  rmSync(join(d, BAD));
  expect(readdirSync(d).sort()).toEqual([TWIN, `l-${BAD}`, 'plain'].sort());
});

test('a recursive mkdir reports the first directory made as a prefix of the path asked for', async () => {
  const d = await temp();
  expect(mkdirSync(join(d, BAD, 'a', 'b'), { recursive: true })).toBe(join(d, BAD));
  expect(await mkdir(join(d, 'ok', BAD), { recursive: true })).toBe(join(d, 'ok'));
  expect(mkdirSync(join(d, 'plain', 'x'), { recursive: true })).toBe(join(d, 'plain'));
  expect(fs.existsSync(Buffer.from(`${d}/bad\xffname/a/b`, 'latin1'))).toBe(true);
});
