/**
 * `--context` as Kaniko reads it (issue 14; Kaniko's README "Kaniko Build Contexts" and
 * pkg/buildcontext): a local directory, a local tarball or standard input, an object in GCS, S3
 * or Azure Blob Storage, a Git repository, or a remote tarball as `docker build URL` takes one.
 * This module only names the source; `executor/remote-context.ts` fetches a remote one into a
 * directory of the build. `--context-sub-path`, `--git` and `--bucket` are read here too. PURE.
 */
import { posix } from 'node:path';
import { UsageError } from '../errors.js';

/** Kaniko's `--git` options (`branch=…,single-branch=…,recurse-submodules=…,insecure-skip-tls=…`). */
export interface GitOptions {
  /** A branch to clone when the URL names no ref. */
  branch?: string;
  singleBranch: boolean;
  recurseSubmodules: boolean;
  /** Skip TLS verification for this clone only (the user's opt-out, as Kaniko's). */
  insecureSkipTls: boolean;
}

/** Where the build context comes from. */
export type ContextSpec =
  /** A directory on this machine (`DIR`, `dir://DIR`). */
  | { kind: 'dir'; path: string }
  /** A `.tar` or `.tar.gz` on this machine (`tar://PATH`). */
  | { kind: 'tar'; path: string }
  /** A plain or gzipped tar on standard input (`tar://stdin`). */
  | { kind: 'stdin' }
  /** A tarball at an http(s) URL on any host but Azure Blob Storage's. */
  | { kind: 'url'; url: URL }
  /**
   * A Git repository (`git://HOST/REPO.git[#REF[#COMMIT]]`), fetched over https (http with
   * `GIT_PULL_METHOD=http`, applied by the fetcher). `url` has no user information: what the
   * user wrote there is in `auth`, and never in messages.
   */
  | {
      kind: 'git';
      url: URL;
      ref?: string;
      commit?: string;
      auth?: { username: string; password: string };
      options: GitOptions;
    }
  /** An object in S3 or an S3-compatible store (`s3://BUCKET/KEY`). */
  | { kind: 's3'; bucket: string; key: string }
  /** An object in Google Cloud Storage (`gs://BUCKET/OBJECT`; `--bucket BUCKET`). */
  | { kind: 'gs'; bucket: string; object: string }
  /** A blob in Azure Blob Storage (`https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`). */
  | { kind: 'azure'; url: URL; account: string; container: string; blob: string };

/** A parsed `--context`: its source, the sub-directory to build from, and how to name it in messages. */
export interface ContextSource {
  spec: ContextSpec;
  /** `--context-sub-path`, relative and normalised; undefined for the whole context. */
  subPath?: string;
  /** The context as the user wrote it, with any password or token replaced by `***`. */
  display: string;
  /** The flag that named it: `--bucket` replaces `--context`, as in Kaniko. */
  flag: '--context' | '--bucket';
}

/** Kaniko's default object name in a bucket (constants.ContextTar). */
export const DEFAULT_CONTEXT_OBJECT = 'context.tar.gz';

/** The flags that say where the context is. */
export interface ContextFlags {
  context: string;
  contextSubPath?: string | undefined;
  git?: string | undefined;
  bucket?: string | undefined;
}

/**
 * `--context` as written, its user information's password replaced by `***` (user information
 * without a password is a token, `git://TOKEN@github.com/…` as Kaniko's GIT_TOKEN, and goes
 * whole), and for an http(s) URL every query value too: a signed URL's query
 * (`X-Amz-Signature=…`, `sig=…`) is a credential, redacted as for `ADD <url>` (registry/redact.ts).
 */
export function redactContext(context: string): string {
  const shown = context
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@#?:]*:)[^/@#?]*@/i, '$1***@')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@#?:]+@/i, '$1***@');
  if (!/^https?:\/\//i.test(shown)) return shown;
  return shown.replace(
    /\?([^#]+)/,
    (_, query: string) =>
      `?${query
        .split('&')
        .map((pair) => `${pair.split('=')[0] ?? ''}=***`)
        .join('&')}`,
  );
}

function bad(flags: ContextFlags, why: string): UsageError {
  return new UsageError(`--context "${redactContext(flags.context)}": ${why}`);
}

const BOOL = new Map([
  ['true', true],
  ['false', false],
]);

/** Kaniko's `--git` value: comma-separated `key=value` pairs, booleans `true`/`false`. */
export function parseGitOptions(value: string | undefined): GitOptions {
  const o: GitOptions = { singleBranch: false, recurseSubmodules: false, insecureSkipTls: false };
  if (value === undefined || value.trim() === '') return o;
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const raw = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (key === 'branch') {
      // Kaniko's own default value is `branch=,single-branch=false,recurse-submodules=false`.
      if (raw !== '') o.branch = raw;
      continue;
    }
    const flag = {
      'single-branch': 'singleBranch',
      'recurse-submodules': 'recurseSubmodules',
      'insecure-skip-tls': 'insecureSkipTls',
    }[key] as 'singleBranch' | 'recurseSubmodules' | 'insecureSkipTls' | undefined;
    const b = BOOL.get(raw.toLowerCase());
    if (!flag)
      throw new UsageError(
        `--git "${value}": unknown option "${key}"; expected branch=, single-branch=, recurse-submodules= or insecure-skip-tls=`,
      );
    if (b === undefined) throw new UsageError(`--git "${value}": ${key}= takes true or false, not "${raw}"`);
    o[flag] = b;
  }
  return o;
}

/** Splits `BUCKET/PATH` (after the scheme); the path defaults to Kaniko's `context.tar.gz`. */
function bucketAndObject(flags: ContextFlags, rest: string): { bucket: string; object: string } {
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const object = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw bad(flags, 'names no bucket');
  return { bucket, object: object === '' ? DEFAULT_CONTEXT_OBJECT : object };
}

function gitSpec(flags: ContextFlags, rest: string): ContextSpec {
  // Kaniko: git://HOST/REPO.git#REF#COMMIT, REF a branch, a tag or a refs/… name.
  const [where = '', ref, commit, ...extra] = rest.split('#');
  if (extra.length > 0) throw bad(flags, 'has more than two #: expected git://HOST/REPO.git#REF#COMMIT');
  let url: URL;
  try {
    url = new URL(`https://${where}`);
  } catch {
    throw bad(flags, 'is not a repository URL: expected git://HOST/REPO.git[#REF[#COMMIT]]');
  }
  if (url.hostname === '' || url.pathname === '/')
    throw bad(flags, 'names no repository: expected git://HOST/REPO.git');
  const auth =
    url.username !== '' || url.password !== ''
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
  url.username = '';
  url.password = '';
  if (commit !== undefined && !/^[0-9a-f]{7,64}$/i.test(commit))
    throw bad(flags, `"${commit}" after the second # is not a commit id (hexadecimal)`);
  return {
    kind: 'git',
    url,
    ...(ref ? { ref } : {}),
    ...(commit ? { commit: commit.toLowerCase() } : {}),
    ...(auth ? { auth } : {}),
    options: parseGitOptions(flags.git),
  };
}

function httpSpec(flags: ContextFlags): ContextSpec {
  let url: URL;
  try {
    url = new URL(flags.context);
  } catch {
    throw bad(flags, 'is not a valid URL');
  }
  // Kaniko: an https URL on Azure Blob Storage's host is a blob, read with Azure's credentials.
  const azure = /^([a-z0-9]+)\.blob\.core\.windows\.net$/i.exec(url.hostname);
  if (url.protocol === 'https:' && azure) {
    const [container = '', ...blob] = url.pathname.slice(1).split('/');
    if (container === '' || blob.join('/') === '')
      throw bad(
        flags,
        'names no container and blob: expected https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH.tar.gz',
      );
    return { kind: 'azure', url, account: azure[1] ?? '', container, blob: blob.map(decodeURIComponent).join('/') };
  }
  return { kind: 'url', url };
}

/** The source `--context` (with `--bucket`, `--git`) names; throws a UsageError (exit 2) naming what is wrong. */
function contextSpec(flags: ContextFlags): ContextSpec {
  const c = flags.context;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(c)?.[1]?.toLowerCase();
  const rest = scheme === undefined ? c : c.slice(scheme.length + 3);
  // Kaniko's --git always has a value (its default names no branch): other contexts ignore it.
  switch (scheme) {
    case undefined:
    case 'dir':
      if (rest === '') throw bad(flags, 'names no directory');
      return { kind: 'dir', path: rest };
    case 'tar':
      if (rest === 'stdin') return { kind: 'stdin' };
      if (rest === '') throw bad(flags, 'names no file: expected tar://PATH.tar.gz or tar://stdin');
      return { kind: 'tar', path: rest };
    case 'git':
      return gitSpec(flags, rest);
    case 'http':
    case 'https':
      return httpSpec(flags);
    case 's3': {
      const { bucket, object } = bucketAndObject(flags, rest);
      return { kind: 's3', bucket, key: object };
    }
    case 'gs':
      return { kind: 'gs', ...bucketAndObject(flags, rest) };
    default:
      throw bad(
        flags,
        `unknown scheme ${scheme}://; expected a directory, dir://, tar://, git://, gs://, s3://, http:// or https://`,
      );
  }
}

/**
 * Parses the context flags. Kaniko's `--bucket BUCKET` (or `SCHEME://BUCKET`) replaces `--context`
 * (cmd/executor/cmd/root.go resolveSourceContext), a bare name meaning `gs://BUCKET`, whose object
 * defaults to `context.tar.gz`. A local directory takes `--context-sub-path` as given (it is the
 * user's own machine); a fetched context's sub path must stay inside it.
 */
export function parseContextSource(flags: ContextFlags): ContextSource {
  const f =
    flags.bucket === undefined
      ? flags
      : { ...flags, context: flags.bucket.includes('://') ? flags.bucket : `gs://${flags.bucket}` };
  const spec = contextSpec(f);
  const named = {
    display: redactContext(f.context),
    flag: flags.bucket === undefined ? '--context' : '--bucket',
  } as const;
  const sub = f.contextSubPath;
  if (sub === undefined || sub === '') return { spec, ...named };
  if (spec.kind === 'dir') return { spec: { kind: 'dir', path: posix.join(spec.path, sub) }, ...named };
  const norm = posix.normalize(`/${sub}`).slice(1).replace(/\/+$/, '');
  if (posix.normalize(sub).startsWith('../') || posix.normalize(sub) === '..')
    throw new UsageError(`--context-sub-path "${sub}" leads outside the context`);
  return norm === '' ? { spec, ...named } : { spec, subPath: norm, ...named };
}
