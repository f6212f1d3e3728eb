/**
 * USER resolution the way Docker (runc's libcontainer/user) does it: `name`, `uid`, `uid:gid`,
 * `name:group`, looked up in the image's /etc/passwd and /etc/group. A numeric uid need not
 * exist (its gid is then 0); a name must. Ids above 2^31−1 are refused wherever they come from:
 * the kernel takes ids modulo 2^32, so 4294967296 would be root (issue 11, finding 4).
 */
import type { RunUser } from './runner.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
}

/** The largest uid or gid Kiln accepts (2^31−1, as Docker and the OCI runtime spec's int32 ids). */
export const MAX_ID = 0x7fffffff;

const NUMERIC = /^\d+$/;

/** A decimal id field; undefined when it is not one (Number() would take '', ' 1', '0x10', '1e3'). */
function idField(text: string | undefined): number | undefined {
  return text !== undefined && NUMERIC.test(text) ? Number(text) : undefined;
}

/** Parses /etc/passwd text; malformed lines are skipped as libc does. Ids are kept as written, range checks are the caller's. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = idField(f[2]);
    const gid = idField(f[3]);
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

/** Parses /etc/group text. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const gid = idField(f[2]);
    if (gid === undefined) continue;
    out.push({ name: f[0] ?? '', gid });
  }
  return out;
}

/** Why a numeric id written in a Dockerfile (`USER`, `--chown`) is refused, or undefined when it is in range. */
export function numericIdError(kind: 'uid' | 'gid', text: string): string | undefined {
  return Number(text) > MAX_ID ? `${kind} ${text} is out of range (0 to ${MAX_ID})` : undefined;
}

/** Why an id found in the image's /etc/passwd or /etc/group (`who`: "user app", "group staff") is refused, or undefined when it is in range. */
export function entryIdError(
  who: string,
  field: 'uid' | 'gid',
  id: number,
  file: '/etc/passwd' | '/etc/group',
): string | undefined {
  return id > MAX_ID ? `${who} has ${field} ${String(id)} in ${file}, out of range (0 to ${MAX_ID})` : undefined;
}

/**
 * The ids a `user[:group]` value spells out as numbers that are out of range; undefined when
 * none is. Names are checked when they are looked up ({@link resolveUser}).
 */
export function userSpecError(spec: string): string | undefined {
  const [userPart = '', groupPart] = spec.split(':', 2);
  if (NUMERIC.test(userPart)) {
    const e = numericIdError('uid', userPart);
    if (e) return e;
  }
  return groupPart !== undefined && NUMERIC.test(groupPart) ? numericIdError('gid', groupPart) : undefined;
}

export interface ResolvedUser extends RunUser {
  /** Home directory from /etc/passwd, `/` when unknown; Docker sets HOME from it. */
  home: string;
}

/** Why a USER value cannot be resolved: `range` for an id above {@link MAX_ID} (a Dockerfile error), `unknown` for a missing name. */
export interface UserError {
  error: string;
  kind: 'unknown' | 'range';
}

/**
 * Resolves a USER value. Returns an error message instead of throwing so the caller can attach
 * the Dockerfile location.
 */
export function resolveUser(
  spec: string,
  passwd: string | undefined,
  group: string | undefined,
): ResolvedUser | UserError {
  const specError = userSpecError(spec);
  if (specError) return { error: specError, kind: 'range' };
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const numeric = NUMERIC.test(userPart);
  const entry =
    users.find((u) => u.name === userPart) ?? (numeric ? users.find((u) => u.uid === Number(userPart)) : undefined);
  if (!entry && !numeric)
    return { error: `unable to find user ${userPart}: no matching entries in passwd file`, kind: 'unknown' };
  const uid = entry?.uid ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  // Where the gid came from, for the message when it is out of range (a number in the spec was checked above).
  let gidFrom: { who: string; file: '/etc/passwd' | '/etc/group' } | undefined = entry && {
    who: `user ${entry.name}`,
    file: '/etc/passwd',
  };
  if (groupPart !== undefined && groupPart !== '') {
    const g = (group === undefined ? [] : parseGroup(group)).find((x) => x.name === groupPart);
    if (g) {
      gid = g.gid;
      gidFrom = { who: `group ${g.name}`, file: '/etc/group' };
    } else if (NUMERIC.test(groupPart)) {
      gid = Number(groupPart);
      gidFrom = undefined;
    } else {
      return { error: `unable to find group ${groupPart}: no matching entries in group file`, kind: 'unknown' };
    }
  }
  const rangeError =
    (entry && entryIdError(`user ${entry.name}`, 'uid', uid, '/etc/passwd')) ??
    (gidFrom && entryIdError(gidFrom.who, 'gid', gid, gidFrom.file));
  if (rangeError) return { error: rangeError, kind: 'range' };
  return { uid, gid, home: entry?.home ?? '/' };
}

/** The owner of files a step makes for the stage's USER, and the names the image did not list. */
export interface FileOwner {
  uid: number;
  gid: number;
  /** `user NAME` or `group NAME` not found in /etc/passwd or /etc/group: 0 stands in for them (BuildKit). */
  unknown: string[];
}

/**
 * The owner of the directories WORKDIR makes for a USER value, by BuildKit's rule for a file
 * operation's `WithUser` (llb `WithUser`, llbsolver/file `readUser`): a name is looked up in
 * /etc/passwd and gives its uid and gid; a number is `uid:uid`, listed or not; `:group` (a name
 * looked up in /etc/group, or a number) sets the gid. A name the image does not list is no error
 * there, unlike for RUN: 0 stands in for it and the caller is told. Ids above 2^31−1 are refused
 * (`range`), as everywhere.
 */
export function resolveFileOwner(
  spec: string,
  passwd: string | undefined,
  group: string | undefined,
): FileOwner | UserError {
  const specError = userSpecError(spec);
  if (specError) return { error: specError, kind: 'range' };
  const [userPart = '', groupPart] = spec.split(':', 2);
  const owner: FileOwner = { uid: 0, gid: 0, unknown: [] };
  // The id that ends up as the gid, with where it came from when that was a file (for its range check).
  let gidFrom: { who: string; file: '/etc/passwd' | '/etc/group' } | undefined;
  if (NUMERIC.test(userPart)) {
    owner.uid = Number(userPart);
    owner.gid = owner.uid;
  } else {
    const entry = (passwd === undefined ? [] : parsePasswd(passwd)).find((u) => u.name === userPart);
    if (entry) {
      const rangeError = entryIdError(`user ${entry.name}`, 'uid', entry.uid, '/etc/passwd');
      if (rangeError) return { error: rangeError, kind: 'range' };
      owner.uid = entry.uid;
      owner.gid = entry.gid;
      gidFrom = { who: `user ${entry.name}`, file: '/etc/passwd' };
    } else owner.unknown.push(`user ${userPart}`);
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (NUMERIC.test(groupPart)) {
      owner.gid = Number(groupPart);
      gidFrom = undefined;
    } else {
      const g = (group === undefined ? [] : parseGroup(group)).find((x) => x.name === groupPart);
      if (g) {
        owner.gid = g.gid;
        gidFrom = { who: `group ${g.name}`, file: '/etc/group' };
      } else owner.unknown.push(`group ${groupPart}`);
    }
  }
  const rangeError = gidFrom && entryIdError(gidFrom.who, 'gid', owner.gid, gidFrom.file);
  return rangeError ? { error: rangeError, kind: 'range' } : owner;
}
