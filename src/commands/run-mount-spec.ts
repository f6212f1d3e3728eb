/**
 * The value of one `RUN --mount=…` flag, read as BuildKit reads it (Dockerfile reference, "RUN
 * --mount"; buildkit `instructions/commands_runmount.go`): a CSV record of `key=value` fields
 * (quotes as in Go's encoding/csv), keys case-insensitive, values expanded with the stage's ARGs
 * and ENV — except `from`, which Docker does not expand. Defaults are Docker's: `type=bind`,
 * read-only for bind and secret, writable for cache and tmpfs. PURE.
 */
import { posix } from 'node:path';
import { suggest } from '../dockerfile/suggest.js';

/** Cache sharing modes (`sharing=`). */
export type CacheSharing = 'shared' | 'private' | 'locked';

/** One parsed `--mount`, with Docker's defaults filled in and the target made absolute. */
export type MountSpec =
  | { type: 'bind'; from?: string; source: string; target: string; readonly: boolean }
  | {
      type: 'cache';
      id: string;
      target: string;
      readonly: boolean;
      sharing: CacheSharing;
      mode: number;
      uid: number;
      gid: number;
    }
  | { type: 'tmpfs'; target: string; sizeBytes?: number }
  | {
      type: 'secret';
      id: string;
      /** Where the file appears; undefined when the secret is only exposed as `env`. */
      target?: string;
      env?: string;
      required: boolean;
      mode: number;
      uid: number;
      gid: number;
    };

/** A `--mount` value Docker would reject; the message is Docker's where it has one. */
export class MountSpecError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const KEYS = [
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

function parseBool(key: string, value: string): boolean {
  // Go's strconv.ParseBool
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new MountSpecError(`invalid value for ${key}: ${value}`);
}

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

interface Fields {
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

function readField(f: Fields, key: string, value: string): void {
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
    default: {
      const close = suggest(key, KEYS, true);
      throw new MountSpecError(
        `unexpected key '${key}' in '${key}=${value}'`,
        close ? `did you mean ${close}?` : undefined,
      );
    }
  }
}

/**
 * Parses one `--mount` value. `expand` expands a field value in the stage's scope; `workdir`
 * makes a relative target absolute (Docker joins it to the working directory).
 */
export function parseMountSpec(value: string, expand: (word: string) => string, workdir: string): MountSpec {
  const f: Fields = { type: 'bind', required: false };
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (['readonly', 'ro', 'readwrite', 'rw', 'required'].includes(key)) readField(f, key, 'true');
      else throw new MountSpecError(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const raw = field.slice(eq + 1);
    if (key === 'from' && /\$./.test(raw))
      throw new MountSpecError(`'from' doesn't support variable expansion, define alias stage instead`);
    readField(f, key, key === 'from' ? raw : expand(raw));
  }
  return toSpec(f, workdir);
}

function absolute(target: string, workdir: string): string {
  return posix.resolve(workdir || '/', target);
}

function toSpec(f: Fields, workdir: string): MountSpec {
  const fileInfo = f.type === 'secret' || f.type === 'ssh' || f.type === 'cache';
  for (const k of ['mode', 'uid', 'gid'] as const) {
    if (!fileInfo && f[k] !== undefined) throw new MountSpecError(`${k} not allowed for "${f.type}" type mounts`);
  }
  if (f.sharing !== undefined && f.type !== 'cache')
    throw new MountSpecError(`invalid cache sharing set for ${f.type} mount`);
  if (f.type === 'ssh')
    throw new MountSpecError(
      'SSH agent mounts are not supported',
      'Kiln has no SSH agent forwarding; use a secret mount for keys or tokens',
    );
  if (f.type === 'secret') return secretSpec(f, workdir);
  if (f.target === undefined || f.target === '')
    throw new MountSpecError(`mount type ${f.type} requires a target`, 'add target=/path');
  const target = absolute(f.target, workdir);
  if (target === '/') throw new MountSpecError(`invalid mount target ${JSON.stringify(f.target)}`);
  if (f.type === 'tmpfs') return { type: 'tmpfs', target, ...(f.size === undefined ? {} : { sizeBytes: f.size }) };
  if (f.type === 'cache') {
    if (f.from !== undefined || f.source !== undefined) {
      throw new MountSpecError(
        'RUN --mount=type=cache with from= or source= is not supported',
        'a cache starts empty in Kiln; drop from= and source=',
      );
    }
    // Docker: "id … Defaults to value of target"; a new cache directory is 0755 root:root unless mode/uid/gid say otherwise.
    return {
      type: 'cache',
      id: f.id ?? f.target,
      target,
      readonly: f.readonly ?? false,
      sharing: f.sharing ?? 'shared',
      mode: f.mode ?? 0o755,
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
    };
  }
  return {
    type: 'bind',
    ...(f.from === undefined ? {} : { from: f.from }),
    source: f.source ?? '/',
    target,
    readonly: f.readonly ?? true,
  };
}

/** buildkit `dispatchSecret`: the id defaults to the source, then to the target's base name; the file to /run/secrets/<id>. */
function secretSpec(f: Fields, workdir: string): MountSpec {
  if (f.from !== undefined) throw new MountSpecError('secret mount should not have a from');
  if ((f.source ?? '') === '' && (f.target ?? '') === '' && (f.id ?? '') === '')
    throw new MountSpecError('invalid secret mount. one of source, target required');
  if ((f.source ?? '') !== '' && (f.id ?? '') !== '') throw new MountSpecError("both source and id can't be set");
  if (f.readonly === false) throw new MountSpecError('a secret mount is always read-only', 'drop rw');
  const id = f.source || f.id || posix.basename(f.target ?? '');
  let target: string | undefined;
  if (f.target) target = absolute(f.target, workdir);
  else if (f.env === undefined) target = `/run/secrets/${posix.basename(id)}`;
  if (target === '/') throw new MountSpecError(`invalid mount target ${JSON.stringify(f.target)}`);
  return {
    type: 'secret',
    id,
    ...(target === undefined ? {} : { target }),
    ...(f.env === undefined ? {} : { env: f.env }),
    required: f.required,
    mode: f.mode ?? 0o400,
    uid: f.uid ?? 0,
    gid: f.gid ?? 0,
  };
}
