/**
 * The value of one `RUN --mount=…` flag, read as BuildKit reads it (Dockerfile reference, "RUN
 * --mount"; buildkit `instructions/commands_runmount.go`): a CSV record of `key=value` fields
 * (quotes as in Go's encoding/csv), keys case-insensitive, values expanded with the stage's ARGs
 * and ENV — except `from`, which Docker does not expand. Defaults are Docker's: `type=bind`,
 * read-only for bind and secret, writable for cache and tmpfs. PURE.
 *
 * Read in two steps, as BuildKit parses a mount once without and once with an expander: the
 * planner reads the syntax ({@link parseMountSyntax}: fields, keys, `from`, and every check that
 * expansion cannot change), so a malformed mount fails before anything is pulled; the RUN step
 * finishes it in the stage's scope ({@link finishMountSpec}). Both steps share one reader, so a
 * check gives the same message whichever step makes it.
 */
import { posix } from 'node:path';
import {
  BARE,
  KEYS,
  MountSpecError,
  readField,
  splitCsv,
  unknownKey,
  type CacheSharing,
  type Fields,
} from './mount-fields.js';

/**
 * One parsed `--mount`, with Docker's defaults filled in and the target made absolute. `F` is what
 * a bind's `from=` holds: the value as written, or what the planner resolved it to.
 */
export type MountSpec<F = string> =
  | { type: 'bind'; from?: F; source: string; target: string; readonly: boolean }
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

/** One field of a `--mount` value: a known key (lower-cased) and its value as written. */
export interface MountField {
  key: string;
  /** Unexpanded; undefined for a bare flag (`ro`, `rw`, `required`…). */
  value?: string;
}

/** A `--mount` value read but not yet expanded: what the plan holds for each mount of a RUN. */
export interface MountSyntax<F = string> {
  /** The value as written (errors quote it). */
  text: string;
  fields: readonly MountField[];
  /** The last `from=`, as written (Docker never expands it), or what the planner resolved it to. */
  from?: F;
}

/** Whether expansion leaves `value` as it is: no `$`, no quote, no escape character. */
function literal(value: string, escape: string): boolean {
  return !/[$'"]/.test(value) && !value.includes(escape);
}

/**
 * Reads one `--mount` value without expanding it: the CSV record, bare flags, known keys, a `from`
 * without variables. Every field whose value expansion cannot change (no `$`, quote or escape
 * character) is checked here as {@link finishMountSpec} will check it, and so is the whole mount
 * when all its values are such — except a relative target, which needs the WORKDIR.
 */
export function parseMountSyntax(text: string, escape: string): MountSyntax {
  const fields: MountField[] = [];
  let from: string | undefined;
  // The dry run: the fields read so far, while every `type=` was literal (later checks depend on it).
  let dry: Fields | undefined = { type: 'bind', required: false };
  let complete = true;
  for (const field of splitCsv(text)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (!BARE.includes(key)) throw new MountSpecError(`invalid field '${field}' must be a key=value pair`);
      if (dry) readField(dry, key, 'true');
      fields.push({ key });
      continue;
    }
    const value = field.slice(eq + 1);
    if (!KEYS.includes(key)) throw unknownKey(key, value);
    if (key === 'from') {
      if (/\$./.test(value))
        throw new MountSpecError(`'from' doesn't support variable expansion, define alias stage instead`);
      from = value;
    }
    if (key === 'from' || literal(value, escape)) {
      if (dry) readField(dry, key, value);
    } else {
      complete = false;
      if (key === 'type') dry = undefined;
    }
    fields.push({ key, value });
  }
  if (dry && complete) toSpec(dry, undefined);
  return { text, fields, ...(from === undefined ? {} : { from }) };
}

/**
 * Finishes a mount read by {@link parseMountSyntax}: expands each value but `from` with `expand`
 * (the stage's scope), checks it, and makes the target absolute against `workdir` (Docker joins a
 * relative target to the working directory).
 */
export function finishMountSpec<F>(
  syntax: MountSyntax<F>,
  expand: (word: string) => string,
  workdir: string,
): MountSpec<F> {
  const f: Fields = { type: 'bind', required: false };
  for (const { key, value } of syntax.fields)
    readField(f, key, value === undefined ? 'true' : key === 'from' ? value : expand(value));
  const spec = toSpec(f, workdir);
  return spec.type === 'bind' && syntax.from !== undefined ? { ...spec, from: syntax.from } : spec;
}

/** `target` made absolute against `workdir`; undefined `workdir` (not known yet): a relative target as it is. */
function absolute(target: string, workdir: string | undefined): string {
  if (workdir === undefined) return target.startsWith('/') ? posix.resolve(target) : target;
  return posix.resolve(workdir || '/', target);
}

function toSpec(f: Fields, workdir: string | undefined): MountSpec<never> {
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
  // A bind's `from` is set by finishMountSpec: it may be what the planner resolved.
  return { type: 'bind', source: f.source ?? '/', target, readonly: f.readonly ?? true };
}

/** buildkit `dispatchSecret`: the id defaults to the source, then to the target's base name; the file to /run/secrets/<id>. */
function secretSpec(f: Fields, workdir: string | undefined): MountSpec<never> {
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
