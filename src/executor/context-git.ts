/**
 * A Git repository as the build context (`--context git://HOST/REPO.git[#REF[#COMMIT]]`, issue 14),
 * with Kaniko's meaning (pkg/buildcontext/git.go): cloned over https, or http when
 * `GIT_PULL_METHOD=http`; at REF (a branch, tag, `refs/…` name such as `refs/pull/N/head`, or a
 * commit id), the remote's HEAD by default, or `--git branch=NAME` (a branch, else a tag of that
 * name) when the URL names no ref; then COMMIT checked out when given. Submodules only with
 * `--git recurse-submodules=true` (Kaniko's default is none).
 *
 * The fetch is exec/git.ts's, shared with `ADD <git repository>`: only the ref is fetched, shallow
 * when the server allows it, so `single-branch` changes nothing Kiln fetches (BuildKit's git
 * context fetches one ref too). The `.git` directory stays in the context, as in Kaniko (its clone
 * is a normal checkout, and a Dockerfile may COPY or RUN git on it); `.dockerignore` can leave it out.
 *
 * Credentials (Kaniko's `GIT_TOKEN`, else `GIT_USERNAME`/`GIT_PASSWORD`, else the URL's user
 * information) reach git as an `Authorization` header scoped to the repository's origin, passed in
 * git's environment (exec/git.ts `config`): never in argv, in the URL git prints, on disk or in
 * `.git/config`. git trusts what Kiln trusts: Node's roots, `SSL_CERT_DIR` and
 * `NODE_EXTRA_CA_CERTS` (registry/trust.ts) and a `--registry-certificate` given for the same
 * host, written to a bundle for `http.sslCAInfo`.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { ContextSpec } from '../config/context-spec.js';
import { ContextError, errnoCode, fsError, UsageError } from '../errors.js';
import { fetchGitRef, GitFailed, listRemoteRefs, type GitEnv } from '../exec/git.js';
import { parseCertificates } from '../registry/index.js';
import { buildTrustedCas, type BuildEnv } from './build-env.js';
import type { RemoteSpec } from './remote-context.js';

type GitSpec = Extract<ContextSpec, { kind: 'git' }>;

/** Basic-auth credentials for the repository's host. */
export interface GitCredentials {
  username: string;
  password: string;
}

/** Kaniko's getGitAuth: `GIT_TOKEN` (as the user name, no password), else `GIT_USERNAME`/`GIT_PASSWORD`, else the URL's. */
export function gitCredentials(
  spec: Pick<GitSpec, 'auth'>,
  env: Readonly<Record<string, string | undefined>>,
): GitCredentials | undefined {
  const token = env.GIT_TOKEN ?? '';
  if (token !== '') return { username: token, password: '' };
  const username = env.GIT_USERNAME ?? '';
  const password = env.GIT_PASSWORD ?? '';
  if (username !== '' || password !== '') return { username, password };
  return spec.auth;
}

/** The URL git fetches: https, or http with Kaniko's `GIT_PULL_METHOD=http` (any other value means https). */
export function gitRemote(spec: Pick<GitSpec, 'url'>, env: Readonly<Record<string, string | undefined>>): URL {
  const url = new URL(spec.url.href);
  if (env.GIT_PULL_METHOD === 'http') url.protocol = 'http:';
  return url;
}

/**
 * The git configuration of this fetch: the CA bundle (or no verification, `insecure-skip-tls`),
 * a stall timeout (less than 1 byte/s for `timeoutS`), and the credentials as a header sent only
 * to the repository's origin (its submodules on the same host included, as Kaniko's go-git does).
 */
export function gitConfig(
  remote: URL,
  o: { caFile: string; insecureSkipTls: boolean; timeoutS: number; credentials?: GitCredentials | undefined },
): [string, string][] {
  const config: [string, string][] = [
    ['http.sslCAInfo', o.caFile],
    ['http.lowSpeedLimit', '1'],
    ['http.lowSpeedTime', String(o.timeoutS)],
    // A submodule URL is the repository's to choose: never the build host's own repositories
    // (file://, refused for submodules since git 2.38.1 only) nor a command (ext::).
    ['protocol.file.allow', 'never'],
    ['protocol.ext.allow', 'never'],
  ];
  if (o.insecureSkipTls) config.push(['http.sslVerify', 'false']);
  if (o.credentials) {
    const basic = Buffer.from(`${o.credentials.username}:${o.credentials.password}`).toString('base64');
    config.push([`http.${remote.origin}/.extraHeader`, `Authorization: Basic ${basic}`]);
  }
  return config;
}

/** The line of git's message that says what went wrong, in Kiln's words where git's are obscure. */
export function gitFailureReason(
  stderr: string,
  remote: URL,
  withCredentials: boolean,
): { reason: string; hint?: string } {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const fatal = lines.filter((l) => /^(fatal|error):/.test(l)).pop() ?? lines.pop() ?? 'git failed';
  const all = lines.join('\n');
  if (/could not read (Username|Password)|Authentication failed|returned error: 40[13]/i.test(all))
    return {
      reason: withCredentials
        ? 'authentication failed: the server refused the credentials'
        : 'authentication failed: the repository needs credentials',
      hint: "give them in GIT_USERNAME and GIT_PASSWORD, GIT_TOKEN, or the URL's user information",
    };
  if (/repository '.*' not found|returned error: 404/i.test(all))
    return { reason: `repository not found at ${remote.origin}${remote.pathname}` };
  const ref = /couldn't find remote ref (\S+)/i.exec(all);
  if (ref) return { reason: `ref ${ref[1]} not found in the repository` };
  if (/certificate|SSL|TLS/i.test(fatal) && /verif|problem|issuer|self.signed/i.test(fatal))
    return {
      // git names its CA file (Kiln's temporary bundle): of no use to the user.
      reason: `TLS: the certificate of ${remote.host} is not trusted (${fatal.replace(/^fatal: unable to access '[^']*': /, '').replace(/\.? *CAfile: .*$/, '')})`,
      hint: 'put its CA in a directory of SSL_CERT_DIR (/kaniko/ssl/certs in the image), or skip verification with --git insecure-skip-tls=true',
    };
  if (/Operation too slow|timed out|no progress for/i.test(fatal))
    return { reason: `timed out: nothing came from ${remote.host} for too long (--network-timeout sets how long)` };
  const access = /^fatal: unable to access '[^']*': (.*)$/.exec(fatal);
  if (access) return { reason: `cannot reach ${remote.host}: ${access[1]}` };
  return { reason: fatal.replace(/^(fatal|error): /, '') };
}

/** Replaces every secret in `text` by `***`, should git ever repeat one. */
function redact(text: string, credentials: GitCredentials | undefined): string {
  if (!credentials) return text;
  const b64 = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  let out = text;
  // A token is the user name (GIT_TOKEN, or a URL's `TOKEN@`); a user name beside a password is not secret.
  const secrets = [b64, credentials.password === '' ? credentials.username : credentials.password];
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/** The CA bundle git is to trust: Node's roots, the build's extra CAs, and a `--registry-certificate` for this host. */
function caBundle(env: BuildEnv, host: string): string {
  const pems = [...rootCertificates];
  pems.push(...buildTrustedCas(env));
  const file = env.options.registryCertificates.get(host);
  if (file !== undefined) {
    try {
      pems.push(...parseCertificates(readFileSync(resolve(env.cwd, file))).certs);
    } catch (err) {
      env.logger.warn(`--registry-certificate ${host}=${file}: cannot read it (${String(err)}); git does not trust it`);
    }
  }
  return `${pems.join('\n')}\n`;
}

/** The ref to fetch: the URL's, else `--git branch=NAME` resolved as Kaniko does (a branch first, then a tag). */
async function refToFetch(spec: GitSpec, remote: string, cwd: string, io: GitEnv): Promise<string | undefined> {
  const branch = spec.options.branch;
  if (spec.ref !== undefined || branch === undefined) return spec.ref;
  const names = [`refs/heads/${branch}`, `refs/tags/${branch}`];
  const refs = await listRemoteRefs(remote, names, cwd, io);
  const found = names.find((n) => refs.has(n));
  if (found === undefined)
    throw Object.assign(new GitFailed(`invalid branch ${branch}`), {
      stderr: `fatal: couldn't find remote ref ${branch} (--git branch=${branch}: no branch or tag of that name)`,
    });
  return found;
}

/** Fetches the Git repository `spec` names into `into` (the ContextFetcher of the 'git' kind). */
export async function fetchGitContext(spec: RemoteSpec, into: string, env: BuildEnv, display: string): Promise<void> {
  if (spec.kind !== 'git') throw new Error(`fetchGitContext: not a git context (${spec.kind})`);
  const remote = gitRemote(spec, env.env);
  const credentials = gitCredentials(spec, env.env);
  const scratch = await mkdtemp(join(env.tmpDir, 'kiln-git-')).catch((err: unknown) => {
    throw fsError(`creating a directory in ${env.tmpDir}`, err);
  });
  try {
    const caFile = join(scratch, 'ca-bundle.pem');
    await writeFile(caFile, caBundle(env, remote.host), { mode: 0o600 }).catch((err: unknown) => {
      throw fsError(`writing ${caFile}`, err);
    });
    const timeoutS = Math.max(1, Math.ceil((env.options.networkTimeoutMs ?? 120_000) / 1000));
    const config = gitConfig(remote, { caFile, insecureSkipTls: spec.options.insecureSkipTls, timeoutS, credentials });
    const io = { env: env.env, signal: env.signal, config, idleTimeoutMs: timeoutS * 1000 };
    try {
      const ref = await refToFetch(spec, remote.href, scratch, io);
      env.logger.info(
        `cloning ${remote.href}${ref ? ` at ${ref}` : ''}${spec.commit ? `, commit ${spec.commit}` : ''}`,
      );
      const checkout = await fetchGitRef(remote.href, ref, into, io, {
        ...(spec.commit !== undefined ? { commit: spec.commit } : {}),
        submodules: spec.options.recurseSubmodules,
      });
      env.logger.debug(`context ${display}: commit ${checkout.commit}`);
    } catch (err) {
      if (!(err instanceof GitFailed)) throw err;
      // No git on this host: the host cannot run the build as asked (exit 2), not a remote failure.
      if (errnoCode(err.cause) === 'ENOENT')
        throw new UsageError(`--context ${display}: ${err.message}`, {
          hint: "install git (Debian's package git), or use Kiln's image, which has it",
        });
      const { reason, hint } = gitFailureReason(err.stderr || err.message, remote, credentials !== undefined);
      throw new ContextError(`cannot fetch the context ${display}: ${redact(reason, credentials)}`, display, {
        ...(hint ? { hint } : {}),
      });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
