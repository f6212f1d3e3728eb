import { expect, test } from 'vitest';
import { bytesOfName, hasRawBytes, nameFromBytes, printableName } from './file-names.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

/** Names as bytes (hex), and whether they are valid UTF-8. */
const TABLE: [string, string, boolean][] = [
  ['ascii', '62 61 64', true],
  ['empty', '', true],
  ['two-byte', 'c3 a9', true],
  ['three-byte', 'e2 82 ac', true],
  ['four-byte (a surrogate pair in JS)', 'f0 9f 98 80', true],
  ['U+FFFD itself', 'ef bf bd', true],
  ['private use U+E080', 'ee 82 80', true],
  ['a lone 0xff', '62 61 64 ff 6e 61 6d 65', false],
  ['a lone continuation byte', '80', false],
  ['a truncated sequence', 'e2 82', false],
  ['a truncated sequence before ASCII', 'e2 82 41', false],
  ['an overlong slash', 'c0 af', false],
  ['an overlong three-byte form', 'e0 80 af', false],
  ['an encoded surrogate (CESU)', 'ed a0 80 ed b0 80', false],
  ['the encoding of an escape code point', 'ed b3 bf', false],
  ['above U+10FFFF', 'f4 90 80 80', false],
  ['latin1 é', '63 61 66 e9', false],
  ['bad bytes around a pair', 'fe f0 9f 98 80 fd', false],
];

test.each(TABLE)('%s: bytes → name → bytes is exact', (_what, h, valid) => {
  const b = hex(h);
  const name = nameFromBytes(b);
  expect(bytesOfName(name).toString('hex')).toBe(b.toString('hex'));
  expect(hasRawBytes(name)).toBe(!valid);
  // Valid UTF-8 is its plain text: nothing changes for the names Kiln always handled.
  if (valid) expect(name).toBe(b.toString('utf8'));
});

test('distinct byte names stay distinct names (no two collapse into U+FFFD)', () => {
  const names = TABLE.map(([, h]) => nameFromBytes(hex(h)));
  expect(new Set(names).size).toBe(names.length);
  expect(nameFromBytes(hex('ff'))).not.toBe(nameFromBytes(hex('fe')));
  expect(nameFromBytes(hex('ff'))).not.toBe(nameFromBytes(hex('ef bf bd')));
});

test('a slice of a buffer decodes on its own', () => {
  const b = hex('00 61 ff 62 00');
  expect(bytesOfName(nameFromBytes(b, 1, 4)).toString('hex')).toBe('61ff62');
});

test('text that is not an escape encodes as UTF-8', () => {
  expect(bytesOfName('a\u00e9😀').toString('hex')).toBe('61c3a9f09f9880');
  // A lone surrogate no decoder makes is written as U+FFFD, as Node would.
  expect(bytesOfName('a\ud800').toString('hex')).toBe('61efbfbd');
});

test('printableName shows escaped bytes as \\xHH and leaves text alone', () => {
  expect(printableName(nameFromBytes(hex('62 61 64 ff 2f c3 a9')))).toBe('bad\\xFF/é');
  expect(printableName('plain/😀')).toBe('plain/😀');
});
