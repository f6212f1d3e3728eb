/**
 * `--secret` (BuildKit's and `docker build`'s flag, which Kaniko lacks): build secrets for
 * `RUN --mount=type=secret`. `id=ID,src=PATH` reads a file, `id=ID,env=VAR` an environment
 * variable of the executor; `source=` and `type=file|env` are accepted as buildx spells them
 * (`type=env` without `env=` names the variable by `src=` or by the id). Only names and paths are
 * kept here — values are read when a RUN mounts them, and never logged. PURE.
 */
import { UsageError } from '../errors.js';

/** Where a secret's value comes from. */
export type SecretSource = { kind: 'file'; path: string } | { kind: 'env'; name: string };

/** Parses every `--secret` value; `env` is the executor's environment, to check that named variables exist. */
export function parseSecretFlags(
  values: readonly string[],
  env: Record<string, string | undefined>,
): Map<string, SecretSource> {
  const out = new Map<string, SecretSource>();
  for (const value of values) {
    const [id, source] = parseSecret(value, env);
    if (out.has(id)) throw new UsageError(`--secret "${value}": the id ${id} is given twice`);
    out.set(id, source);
  }
  return out;
}

function parseSecret(value: string, env: Record<string, string | undefined>): [string, SecretSource] {
  const bad = (why: string): UsageError =>
    new UsageError(`--secret "${value}": ${why}`, { hint: 'write --secret id=ID,src=PATH or --secret id=ID,env=VAR' });
  let id: string | undefined;
  let src: string | undefined;
  let envName: string | undefined;
  let type: 'file' | 'env' | undefined;
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    if (eq <= 0) throw bad(`expected KEY=VALUE fields, got "${field}"`);
    const key = field.slice(0, eq).toLowerCase();
    const v = field.slice(eq + 1);
    if (key === 'id') id = v;
    else if (key === 'src' || key === 'source') src = v;
    else if (key === 'env') envName = v;
    else if (key === 'type') {
      if (v !== 'file' && v !== 'env') throw bad(`unsupported secret type "${v}" (file or env)`);
      type = v;
    } else throw bad(`unexpected key "${key}"`);
  }
  if (!id) throw bad('id= is required');
  if (type === 'env' && envName === undefined) {
    envName = src ?? id;
    src = undefined;
  }
  if (src !== undefined && envName !== undefined) throw bad('give either src= or env=, not both');
  if (envName !== undefined) {
    if (envName === '') throw bad('env= names no variable');
    if (env[envName] === undefined) throw bad(`the environment variable ${envName} is not set`);
    return [id, { kind: 'env', name: envName }];
  }
  if (src === undefined || src === '') throw bad('src=PATH or env=VAR is required');
  return [id, { kind: 'file', path: src }];
}
