/**
 * `ADD <git repository>`: fetches one ref of a remote repository with the host's `git` into a
 * scratch directory, as BuildKit's git source does — a shallow fetch when the server allows it,
 * a full one otherwise (dumb HTTP servers cannot do shallow fetches), the ref checked out
 * detached, submodules initialised. Credentials come from git's own configuration (ssh keys,
 * credential helpers) in the build's environment; git never prompts.
 */
import { spawn } from 'node:child_process';

/** Thrown when git fails; carries git's own message. */
export class GitFailed extends Error {}

/** The checked-out commit. */
export interface GitCheckout {
  /** Full commit id. */
  commit: string;
  /** Committer time of the commit: the mtime Kiln gives the files (deterministic, unlike checkout time). */
  time: Date;
}

interface GitEnv {
  env: Readonly<Record<string, string | undefined>>;
  signal: AbortSignal;
}

function git(args: string[], cwd: string, ctx: GitEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
    // Never wait for a password on a terminal; never read the machine's global templates.
    Object.assign(env, { GIT_TERMINAL_PROMPT: '0', GIT_TEMPLATE_DIR: '', GIT_ASKPASS: env.GIT_ASKPASS ?? '' });
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal: ctx.signal });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.once('error', (e) => {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        missing
          ? new GitFailed('ADD from a git repository needs the `git` program, which is not on PATH', { cause: e })
          : e,
      );
    });
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new GitFailed(`git ${args.join(' ')}: ${err.trim() || `exit ${code}`}`));
    });
  });
}

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Fetches `ref` (a branch, tag or commit; the remote's HEAD when undefined) of `remote` into the
 * empty directory `dir` and checks it out. Throws {@link GitFailed} when git cannot.
 */
export async function fetchGitRef(
  remote: string,
  ref: string | undefined,
  dir: string,
  ctx: GitEnv,
): Promise<GitCheckout> {
  // A ref or remote starting with `-` would be read as an option (`--upload-pack=…` runs a command).
  if (ref?.startsWith('-') || remote.startsWith('-')) throw new GitFailed(`invalid git ref "${ref ?? remote}"`);
  await git(['init', '--quiet'], dir, ctx);
  await git(['remote', 'add', 'origin', remote], dir, ctx);
  const want = ref ?? 'HEAD';
  let fetched = false;
  for (const depth of [['--depth=1'], []]) {
    try {
      await git(['fetch', '--quiet', '--no-tags', ...depth, 'origin', want], dir, ctx);
      fetched = true;
      break;
    } catch (err) {
      if (!(err instanceof GitFailed)) throw err;
      // A commit id that is not a ref tip may only be reachable through a full fetch.
      if (depth.length === 0 && !(ref !== undefined && FULL_SHA.test(ref))) throw err;
    }
  }
  if (!fetched) await git(['fetch', '--quiet', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'], dir, ctx);
  await git(['checkout', '--quiet', '--detach', fetched ? 'FETCH_HEAD' : want], dir, ctx);
  await git(['submodule', 'update', '--quiet', '--init', '--recursive'], dir, ctx);
  const [commit = '', time = '0'] = (await git(['log', '-1', '--format=%H%n%ct'], dir, ctx)).trim().split('\n');
  return { commit, time: new Date(Number(time) * 1000) };
}
