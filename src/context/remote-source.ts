/**
 * What kind of source an ADD word names, with BuildKit's rules (dfgitutil.ParseGitRef,
 * dockerfile2llb `isHTTPSource`): a git repository (`git://…`, `ssh://…`, `user@host:path`, or an
 * http(s) URL whose path ends in `.git`, each with an optional `#ref:subdir` fragment), another
 * http(s) URL (a file to download), or a local path. `github.com/foo/bar` without a scheme stays a
 * local path for ADD, as in BuildKit.
 */

/** A git source: the remote to fetch, and what to check out from it. */
export interface GitSource {
  kind: 'git';
  /** The repository URL without the fragment. */
  remote: string;
  /** Branch, tag or commit; undefined means the remote's HEAD. */
  ref?: string;
  /** Directory inside the repository to copy instead of its root. */
  subdir?: string;
}

/** A remote file. */
export interface HttpSource {
  kind: 'http';
  url: URL;
}

/** Where a COPY/ADD source word points. */
export type SourceKind = GitSource | HttpSource | { kind: 'local' };

/** `user@host:path`, git's scp-like syntax (BuildKit sshutil.IsImplicitSSHTransport). */
const SCP_LIKE = /^[A-Za-z0-9_-]+@[A-Za-z0-9.-]+:/;

function splitFragment(src: string): { remote: string; ref?: string; subdir?: string } {
  const hash = src.indexOf('#');
  if (hash < 0) return { remote: src };
  const fragment = src.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  return { remote: src.slice(0, hash), ...(ref ? { ref } : {}), ...(subdir ? { subdir } : {}) };
}

/** Classifies one (expanded) source word of ADD or COPY. */
export function classifySource(src: string): SourceKind {
  if (src.startsWith('./') || src.startsWith('../')) return { kind: 'local' };
  const lower = src.toLowerCase();
  if (lower.startsWith('git://') || lower.startsWith('ssh://') || SCP_LIKE.test(src))
    return { kind: 'git', ...splitFragment(src) };
  if (lower.startsWith('http://') || lower.startsWith('https://')) {
    const parts = splitFragment(src);
    let url: URL;
    try {
      url = new URL(parts.remote);
    } catch {
      return { kind: 'local' }; // not a URL after all: a (strange) local path, which will not exist
    }
    // An http(s) URL is a git repository only when its path ends in `.git`.
    if (url.pathname.endsWith('.git')) return { kind: 'git', ...parts };
    return { kind: 'http', url: new URL(src) };
  }
  return { kind: 'local' };
}

/**
 * The file name a download gets when copied into a directory: the last component of the URL's
 * path, or `__unnamed__` when the path has none (BuildKit dockerfile2llb).
 */
export function urlFileName(url: URL): string {
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const last = parts[parts.length - 1];
  if (last === undefined || last === '.') return '__unnamed__';
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // not valid percent-encoding: the name as written
  }
  // Go's url.Parse decodes the path before path.Base, so an encoded `/` splits too.
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base === '' || base === '.' || base === '..' ? '__unnamed__' : base;
}
