/**
 * USER resolution the way Docker (runc's libcontainer/user) does it: `name`, `uid`, `uid:gid`,
 * `name:group`, looked up in the image's /etc/passwd and /etc/group. A numeric uid need not
 * exist (its gid is then 0); a name must.
 */
import type { RunUser } from './runner.js';

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number }

/** Parses /etc/passwd text; malformed lines are skipped as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
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
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0] ?? '', gid });
  }
  return out;
}

export interface ResolvedUser extends RunUser {
  /** Home directory from /etc/passwd, `/` when unknown; Docker sets HOME from it. */
  home: string;
}

const NUMERIC = /^\d+$/;

/**
 * Resolves a USER value. Returns an error message instead of throwing so the caller can attach
 * the Dockerfile location.
 */
export function resolveUser(spec: string, passwd: string | undefined, group: string | undefined): ResolvedUser | { error: string } {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = passwd === undefined ? [] : parsePasswd(passwd);
  const groups = group === undefined ? [] : parseGroup(group);
  let uid: number;
  let gid = 0;
  let home = '/';
  const byName = users.find((u) => u.name === userPart);
  if (byName) {
    ({ uid, gid, home } = byName);
  } else if (NUMERIC.test(userPart)) {
    uid = Number(userPart);
    const entry = users.find((u) => u.uid === uid);
    if (entry) ({ gid, home } = entry);
  } else {
    return { error: `unable to find user ${userPart}: no matching entries in passwd file` };
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((x) => x.name === groupPart);
    if (g) gid = g.gid;
    else if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else return { error: `unable to find group ${groupPart}: no matching entries in group file` };
  }
  return { uid, gid, home };
}
