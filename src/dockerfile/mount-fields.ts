/**
 * The fields of a `RUN --mount=…` value (buildkit `instructions/commands_runmount.go`): one CSV
 * record read as Go's encoding/csv reads it, known keys and their aliases, booleans as
 * `strconv.ParseBool`, numbers as `ParseUint`, sizes as docker/go-units `RAMInBytes`. PURE.
 */
import { suggest } from './suggest.js';

/** A `--mount` value Docker would reject; the message is Docker's where it has one. */
export class MountSpecError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * Splits one CSV record as Go's encoding/csv does (no LazyQuotes): commas separate fields; a
 * field that starts with `"` runs to the matching `"` with `""` standing for one quote; a quote
 * anywhere else is an error.
 */
export function splitCsv(record: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (record[i] === '"') {
      i++;
      for (;;) {
        if (i >= record.length)
          throw new MountSpecError(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (record[i] === '"') {
          if (record[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += record[i];
        i++;
      }
      if (i < record.length && record[i] !== ',')
        throw new MountSpecError(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      const end = record.indexOf(',', i);
      field = record.slice(i, end < 0 ? record.length : end);
      if (field.includes('"')) throw new MountSpecError(`failed to parse csv mounts: bare " in non-quoted-field`);
      i = end < 0 ? record.length : end;
    }
    fields.push(field);
    if (i >= record.length) return fields;
    i++; // the comma
  }
}

/** Go's strconv.ParseBool. */
function parseBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new MountSpecError(`invalid value for ${key}: ${value}`);
}

/** Go's strconv.ParseUint into 32 bits, octal for `mode`. */
function parseUint(key: string, value: string, radix: 8 | 10): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(value) : /^\d+$/.test(value);
  const n = ok ? parseInt(value, radix) : NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) {
    throw new MountSpecError(key === 'mode' ? `invalid value ${value} for mode` : `invalid value ${value} for ${key}`);
  }
  return n;
}

/** docker/go-units `RAMInBytes`: `1024`, `64k`, `1.5g`, `512MiB` (binary units, case-insensitive). */
export function ramInBytes(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(value.trim());
  if (!m) return undefined;
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf((m[2] ?? '').toLowerCase());
  return Math.trunc(Number(m[1]) * 1024 ** power);
}

/** Cache sharing modes (`sharing=`). */
export type CacheSharing = 'shared' | 'private' | 'locked';

const TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
/** Keys that may stand alone, meaning `=true`. */
export const BARE = ['readonly', 'ro', 'readwrite', 'rw', 'required'];
/** Every key a `--mount` may have. */
export const KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'id',
  'sharing',
  'required',
  'mode',
  'uid',
  'gid',
  'src',
  'dst',
  'destination',
  'ro',
  'rw',
  'readwrite',
  'size',
  'env',
];

/** The fields read so far, before defaults. */
export interface Fields {
  type: string;
  from?: string;
  source?: string;
  target?: string;
  readonly?: boolean;
  id?: string;
  sharing?: CacheSharing;
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  env?: string;
}

/** The error for a key no mount has. */
export function unknownKey(key: string, value: string): MountSpecError {
  const close = suggest(key, KEYS, true);
  return new MountSpecError(
    `unexpected key '${key}' in '${key}=${value}'`,
    close ? `did you mean ${close}?` : undefined,
  );
}

/** Reads one field (value already expanded) into `f`, checking it as BuildKit does. */
export function readField(f: Fields, key: string, value: string): void {
  switch (key) {
    case 'type': {
      const t = value.toLowerCase();
      if (!TYPES.includes(t)) {
        const close = suggest(value, TYPES, true);
        throw new MountSpecError(
          `unsupported mount type ${JSON.stringify(value)}`,
          close ? `did you mean ${close}?` : `use one of ${TYPES.join(', ')}`,
        );
      }
      f.type = t;
      return;
    }
    case 'from':
      f.from = value;
      return;
    case 'source':
    case 'src':
      f.source = value;
      return;
    case 'target':
    case 'dst':
    case 'destination':
      f.target = value;
      return;
    case 'readonly':
    case 'ro':
      f.readonly = parseBool(key, value);
      return;
    case 'readwrite':
    case 'rw':
      f.readonly = !parseBool(key, value);
      return;
    case 'required':
      if (f.type !== 'secret' && f.type !== 'ssh')
        throw new MountSpecError(`unexpected key '${key}' for mount type '${f.type}'`);
      f.required = parseBool(key, value);
      return;
    case 'size': {
      if (f.type !== 'tmpfs') throw new MountSpecError(`unexpected key '${key}' for mount type '${f.type}'`);
      const size = ramInBytes(value);
      if (size === undefined) throw new MountSpecError(`invalid value for ${key}: ${value}`);
      f.size = size;
      return;
    }
    case 'id':
      f.id = value;
      return;
    case 'sharing': {
      const s = SHARING.find((x) => x === value.toLowerCase());
      if (!s)
        throw new MountSpecError(
          `unsupported sharing value ${JSON.stringify(value)}`,
          `use one of ${SHARING.join(', ')}`,
        );
      f.sharing = s;
      return;
    }
    case 'mode':
      f.mode = parseUint(key, value, 8);
      return;
    case 'uid':
      f.uid = parseUint(key, value, 10);
      return;
    case 'gid':
      f.gid = parseUint(key, value, 10);
      return;
    case 'env':
      if (f.type !== 'secret') throw new MountSpecError(`unexpected key '${key}' for mount type '${f.type}'`);
      f.env = value;
      return;
    default:
      throw unknownKey(key, value);
  }
}
