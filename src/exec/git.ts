/**
 * Fetches one ref of a remote repository with the host's `git` into a scratch directory, as
 * BuildKit's git source does — a shallow fetch when the server allows it, a full one otherwise
 * (dumb HTTP servers cannot do shallow fetches), the ref checked out detached, submodules
 * initialised. `ADD <git repository>` (commands/add-git.ts) and git build contexts
 * (executor/context-git.ts) both use it. Credentials come from git's own configuration (ssh keys,
 * credential helpers) in the build's environment, or from configuration the caller passes through
 * the environment (never argv); git never prompts.
 */
import { spawn } from 'node:child_process';

/** Thrown when git fails; carries git's own message. */
export class GitFailed extends Error {
  /** What git wrote on standard error (its last 4000 characters); empty when git did not run. */
  stderr = '';
}

/** The checked-out commit. */
export interface GitCheckout {
  /** Full commit id. */
  commit: string;
  /** Committer time of the commit: the mtime Kiln gives the files (deterministic, unlike checkout time). */
  time: Date;
}

/** How git runs: the build's environment and cancellation, and configuration for this fetch only. */
export interface GitEnv {
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
  /**
   * `git -c`-like settings for every git this fetch runs, submodules' included, passed as
   * GIT_CONFIG_COUNT/GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n in its environment: argv is readable by
   * every user in `ps`, and git repeats its arguments in messages (an `Authorization` header lives here).
   */
  config?: readonly (readonly [string, string])[];
  /**
   * Stop git when it has said nothing for this long. git asks for progress (`--progress`), which
   * servers send while they count objects, so this bounds every wait — a TLS handshake that never
   * ends included, which git's own http.lowSpeedTime does not (curl allows a connection 300 s).
   */
  idleTimeoutMs?: number;
}

/** Progress lines (`remote: Counting objects:  5% (1/20)`…), left out of messages. */
const PROGRESS = /^(remote: )?(Enumerating|Counting|Compressing|Receiving|Resolving|Unpacking|Updating files|Total)\b/;

function withoutProgress(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .filter((l) => !PROGRESS.test(l.trim()))
    .join('\n');
}

/** The environment of one git: the build's, no prompts, no templates, then `config` after the user's own GIT_CONFIG_COUNT entries. */
function gitEnvironment(ctx: GitEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
  // Never wait for a password on a terminal; never read the machine's global templates.
  Object.assign(env, { GIT_TERMINAL_PROMPT: '0', GIT_TEMPLATE_DIR: '', GIT_ASKPASS: env.GIT_ASKPASS ?? '' });
  const own = Number(env.GIT_CONFIG_COUNT ?? 0);
  let n = Number.isInteger(own) && own > 0 ? own : 0;
  for (const [key, value] of ctx.config ?? []) {
    env[`GIT_CONFIG_KEY_${n}`] = key;
    env[`GIT_CONFIG_VALUE_${n}`] = value;
    n++;
  }
  if (n > 0) env.GIT_CONFIG_COUNT = String(n);
  return env;
}

function git(args: string[], cwd: string, ctx: GitEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: gitEnvironment(ctx),
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: ctx.signal,
      // git runs its transport (git-remote-https) as a child of its own: in a process group of
      // their own, a stall or an abort ends both, and no orphan keeps the pipes (and Kiln) waiting.
      detached: true,
    });
    const killAll = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    ctx.signal.addEventListener('abort', killAll, { once: true });
    let out = '';
    let err = '';
    let idle: NodeJS.Timeout | undefined;
    let stalled = false;
    const alive = (): void => {
      if (ctx.idleTimeoutMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        stalled = true;
        killAll();
      }, ctx.idleTimeoutMs);
    };
    alive();
    child.stdout.on('data', (d: Buffer) => {
      alive();
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      alive();
      err = (err + d.toString()).slice(-8000);
    });
    child.once('error', (e) => {
      clearTimeout(idle);
      ctx.signal.removeEventListener('abort', killAll);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        missing
          ? new GitFailed('the `git` program is not on PATH (Kiln fetches git repositories with it)', { cause: e })
          : e,
      );
    });
    child.once('close', (code) => {
      clearTimeout(idle);
      ctx.signal.removeEventListener('abort', killAll);
      if (code === 0) return resolve(out);
      const said = stalled
        ? `fatal: no progress for ${(ctx.idleTimeoutMs ?? 0) / 1000} s`
        : withoutProgress(err).trim();
      const failed = new GitFailed(`git ${args.join(' ')}: ${said || `exit ${code}`}`);
      failed.stderr = said;
      reject(failed);
    });
  });
}

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** What to fetch besides the ref. */
export interface FetchOptions {
  /**
   * A commit id (full, or a prefix of at least 7) to check out, from the ref's history (Kaniko's
   * `#REF#COMMIT`): fetched by id when the server allows, else found in the ref's full history,
   * else in every branch's and tag's.
   */
  commit?: string;
  /** `git submodule update --init --recursive` after the checkout; default true (BuildKit's ADD always does). */
  submodules?: boolean;
}

/** git's words for a failure that no other fetch of the same repository would escape. */
const FINAL =
  /unable to access|could not read (Username|Password)|Authentication failed|no progress for|repository '.*' not found/;

/**
 * Fetches with each argument list in turn until `found` holds. When none could fetch, throws the
 * first failure (git's message on the likeliest try); when some fetched without finding, `missing`.
 */
async function fetchUntil(
  tries: string[][],
  dir: string,
  ctx: GitEnv,
  found: () => Promise<boolean>,
  missing: () => GitFailed,
): Promise<void> {
  const progress = ctx.idleTimeoutMs === undefined ? [] : ['--progress'];
  let first: GitFailed | undefined;
  let fetched = false;
  for (const args of tries) {
    try {
      await git(['fetch', '--quiet', ...progress, ...args], dir, ctx);
      fetched = true;
      if (await found()) return;
    } catch (err) {
      if (!(err instanceof GitFailed)) throw err;
      first ??= err;
      // What another refspec or depth cannot change: the server, the credentials, the repository.
      if (FINAL.test(err.stderr)) break;
    }
  }
  throw fetched || !first ? missing() : first;
}

/**
 * Fetches `ref` (a branch, tag, `refs/…` name or commit id; the remote's HEAD when undefined) of
 * `remote` into the empty directory `dir` and checks it out — or `opts.commit` from its history.
 * Throws {@link GitFailed} when git cannot.
 */
export async function fetchGitRef(
  remote: string,
  ref: string | undefined,
  dir: string,
  ctx: GitEnv,
  opts: FetchOptions = {},
): Promise<GitCheckout> {
  // A ref or remote starting with `-` would be read as an option (`--upload-pack=…` runs a command).
  if (ref?.startsWith('-') || remote.startsWith('-')) throw new GitFailed(`invalid git ref "${ref ?? remote}"`);
  if (opts.commit !== undefined && !/^[0-9a-f]{7,64}$/.test(opts.commit))
    throw new GitFailed(`invalid commit id "${opts.commit}"`);
  // A ref that is a full commit id is that commit, to be found wherever it is (as Kaniko's `#COMMIT`).
  const commit = opts.commit ?? (ref !== undefined && FULL_SHA.test(ref) ? ref : undefined);
  const want = commit === ref ? 'HEAD' : (ref ?? 'HEAD');
  await git(['init', '--quiet'], dir, ctx);
  await git(['remote', 'add', 'origin', remote], dir, ctx);
  // Progress keeps the idle timer of `ctx.idleTimeoutMs` from firing while git works.
  const progress = ctx.idleTimeoutMs === undefined ? [] : ['--progress'];
  const yes = async (): Promise<boolean> => true;
  const none = (what: string): GitFailed =>
    Object.assign(new GitFailed(`${what} not found`), { stderr: `fatal: ${what} not found` });
  if (commit === undefined) {
    const tries = [
      ['--depth=1', 'origin', want],
      ['origin', want],
    ];
    await fetchUntil(
      tries.map((t) => ['--no-tags', ...t]),
      dir,
      ctx,
      yes,
      () => none(`ref ${want}`),
    );
  } else {
    const has = (): Promise<boolean> =>
      git(['rev-parse', '--quiet', '--verify', `${commit}^{commit}`], dir, ctx).then(yes, async () => false);
    const byId = FULL_SHA.test(commit)
      ? [
          ['--depth=1', 'origin', commit],
          ['origin', commit],
        ]
      : [];
    const fromRef = commit === ref ? [] : [['origin', want]];
    const tries = [
      ...[...byId, ...fromRef].map((t) => ['--no-tags', ...t]),
      ['--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'],
    ];
    await fetchUntil(tries, dir, ctx, has, () => none(`commit ${commit}${ref && ref !== commit ? ` in ${ref}` : ''}`));
  }
  await git(['checkout', '--quiet', ...progress, '--detach', commit ?? 'FETCH_HEAD'], dir, ctx);
  if (opts.submodules ?? true)
    await git(['submodule', 'update', '--quiet', ...progress, '--init', '--recursive'], dir, ctx);
  const [id = '', time = '0'] = (await git(['log', '-1', '--format=%H%n%ct'], dir, ctx)).trim().split('\n');
  return { commit: id, time: new Date(Number(time) * 1000) };
}

/**
 * The refs of `remote` matching `patterns` (`git ls-remote`), as name → commit id, run in `cwd`
 * (any directory: no repository is needed). Throws {@link GitFailed} when git cannot.
 */
export async function listRemoteRefs(
  remote: string,
  patterns: string[],
  cwd: string,
  ctx: GitEnv,
): Promise<Map<string, string>> {
  if (remote.startsWith('-')) throw new GitFailed(`invalid git remote "${remote}"`);
  const out = await git(['ls-remote', '--', remote, ...patterns], cwd, ctx);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [id, name] = line.split('\t');
    if (id && name) refs.set(name, id);
  }
  return refs;
}
