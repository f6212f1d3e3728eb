import { expect, test } from 'vitest';
import { ChmodSyntaxError, parseChmod } from './copy-chmod.js';

test.each([
  // value, source mode, is a directory, result
  ['755', 0o600, false, 0o755],
  ['0644', 0o777, true, 0o644],
  ['4755', 0o644, false, 0o4755],
  ['7', 0o644, false, 0o007],
  ['u+x', 0o644, false, 0o744],
  ['u+x,g-w', 0o664, false, 0o744],
  ['+x', 0o644, false, 0o755],
  ['a-w', 0o666, false, 0o444],
  ['go-rwx', 0o755, true, 0o700],
  ['a=rX', 0o640, false, 0o444],
  ['a=rX', 0o750, false, 0o555],
  ['a=rX', 0o700, true, 0o555],
  ['u=rwx,go=rx', 0o600, false, 0o755],
  ['go=u-w', 0o700, false, 0o755],
  ['g=u', 0o640, false, 0o660],
  ['o=', 0o777, false, 0o770],
  ['u+s', 0o755, false, 0o4755],
  ['g+s', 0o755, true, 0o2755],
  ['+t', 0o777, true, 0o1777],
  ['u-s', 0o4755, false, 0o755],
  ['ug+rw,o-r', 0o444, false, 0o660],
])('--chmod=%s on %o (dir: %s) gives %o', (value, mode, isDir, expected) => {
  expect(parseChmod(value)(mode, isDir)).toBe(expected);
});

test.each([
  ['17777', "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777"],
  ['789', "invalid chmod parameter: '789'. it should be octal string and between 0 and 07777"],
  ['', "invalid chmod parameter: ''. it should be octal string and between 0 and 07777"],
  ['u+q', 'is not a symbolic mode'],
  ['x+u', 'is not a symbolic mode'],
  ['u+x,', 'is not a symbolic mode'],
  ['rwxr-xr-x', 'is not a symbolic mode'],
])('--chmod=%j is refused', (value, message) => {
  expect(() => parseChmod(value)).toThrow(ChmodSyntaxError);
  expect(() => parseChmod(value)).toThrow(message);
});
