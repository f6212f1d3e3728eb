import { describe, expect, test } from 'vitest';
import { BuildError, FilesystemError, fsError, StepError } from './errors.js';

const sysErr = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('fsError', () => {
  test.each([
    ['ENOSPC', 'writing /x: no space left on device'],
    ['EACCES', 'writing /x: permission denied'],
    ['EROFS', 'writing /x: read-only filesystem'],
    ['EIO', 'writing /x: EIO'],
    ['ERR_FS_FILE_TOO_LARGE', 'writing /x: ERR_FS_FILE_TOO_LARGE'],
  ])("an operating-system error %s is the filesystem's: exit 7, saying what was being done", (code, message) => {
    const got = fsError('writing /x', sysErr(code));
    expect(got).toBeInstanceOf(FilesystemError);
    expect(got.message).toBe(message);
  });

  test('a BuildError passes through as it is', () => {
    const step = new StepError('RUN failed');
    expect(fsError('writing /x', step)).toBe(step);
  });

  test.each([
    ['a TypeError', new TypeError('cannot read properties of undefined')],
    ['an error with a non-system code', sysErr('ERR_INVALID_ARG_TYPE')],
  ])('a bug (%s) keeps its class: exit 1 with its stack, never exit 7', (_what, err) => {
    const got = fsError('writing /x', err);
    expect(got).toBe(err);
    expect(got).not.toBeInstanceOf(BuildError);
  });

  test('a thrown non-Error is a bug too', () => {
    expect(fsError('writing /x', 'boom')).not.toBeInstanceOf(BuildError);
  });
});

describe('StepError', () => {
  test('a step failure exits 6', () => {
    expect(new StepError('COPY failed: file not found').exitCode).toBe(6);
  });

  test.each([1, 2, 42, 127, 137, 255])("a failing RUN's own status %i is the exit code", (status) => {
    expect(new StepError('RUN exit', undefined, { exitCode: status }).exitCode).toBe(status);
  });

  test.each([0, -1, 256, 1.5, Number.NaN])('%s is no exit status of a failure: exit 6', (status) => {
    expect(new StepError('RUN exit', undefined, { exitCode: status }).exitCode).toBe(6);
  });
});
