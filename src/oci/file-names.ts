/**
 * File names as bytes. Linux names are byte strings, and layers carry them as such (Go's
 * archive/tar, which Docker and containerd use, writes the raw bytes into pax `path` records);
 * Kiln keeps names in JavaScript strings. A name that is valid UTF-8 is its decoded text, as
 * everywhere else. A byte that is not part of valid UTF-8 becomes the lone surrogate U+DC80–
 * U+DCFF (byte 0x80–0xFF), the "surrogateescape" scheme of Python's os.fsdecode (PEP 383).
 * Decoding valid UTF-8 never yields a lone surrogate, so the mapping is one-to-one and a name
 * survives the round trip bytes → string → bytes exactly. PURE: no filesystem.
 *
 * Such a string must never reach Node's fs as a string (it would be re-encoded with U+FFFD):
 * `rootfs/host-fs.ts` turns it back into bytes before every call.
 */

/** The first of the code points that stand for undecodable bytes 0x80–0xFF. */
const ESCAPE_BASE = 0xdc00;

const wellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/**
 * Whether `name` holds undecodable bytes (escaped), i.e. must go to the system as bytes.
 * Strings decoded from valid UTF-8 (nearly all) answer false after one native scan.
 */
export function hasRawBytes(name: string): boolean {
  return !wellFormed.call(name);
}

/** Length of the valid UTF-8 sequence at `i`, or 0 where the byte there starts none (Unicode Table 3-7). */
function sequenceAt(b: Uint8Array, i: number, end: number): number {
  const c = b[i] ?? 0;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean =>
    i + k < end && (b[i + k] ?? 0) >= lo && (b[i + k] ?? 0) <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    // E0 needs A0–BF (no overlong forms); ED needs 80–9F (no surrogates).
    const [lo, hi] = c === 0xe0 ? [0xa0, 0xbf] : c === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    // F0 needs 90–BF (no overlong forms); F4 needs 80–8F (nothing above U+10FFFF).
    const [lo, hi] = c === 0xf0 ? [0x90, 0xbf] : c === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * The name of the bytes `b[start, end)`: UTF-8 text, with every byte that is not part of valid
 * UTF-8 escaped. Valid names (no U+FFFD after a plain decode) cost one decode and one scan.
 */
export function nameFromBytes(b: Uint8Array, start = 0, end = b.length): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const text = buf.toString('utf8', start, end);
  // U+FFFD appears where a decoder replaced bad bytes (or where the name holds U+FFFD itself).
  if (!text.includes('\ufffd')) return text;
  let out = '';
  let run = start;
  for (let i = start; i < end;) {
    const n = sequenceAt(buf, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(ESCAPE_BASE + (buf[i] ?? 0));
    run = ++i;
  }
  return out + buf.toString('utf8', run, end);
}

/** The bytes of a name made by {@link nameFromBytes} (or any text: plain UTF-8). */
export function bytesOfName(name: string): Buffer {
  if (!hasRawBytes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = name.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++; // a surrogate pair: text
      continue;
    }
    // A lone surrogate: an escaped byte, or (never made by nameFromBytes) text encoded as U+FFFD.
    parts.push(Buffer.from(name.slice(run, i), 'utf8'));
    parts.push(
      c >= ESCAPE_BASE + 0x80 && c <= ESCAPE_BASE + 0xff ? Buffer.of(c - ESCAPE_BASE) : Buffer.from('\ufffd', 'utf8'),
    );
    run = i + 1;
  }
  parts.push(Buffer.from(name.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** A name for messages: escaped bytes shown as `\xFF`, so that a log line stays valid text. */
export function printableName(name: string): string {
  if (!hasRawBytes(name)) return name;
  return name.replace(/[\udc80-\udcff]/gu, (c) => `\\x${(c.charCodeAt(0) - ESCAPE_BASE).toString(16).toUpperCase()}`);
}
