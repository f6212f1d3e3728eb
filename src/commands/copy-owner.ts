/**
 * `--chown=user[:group]` of COPY and ADD: names are looked up in the image's /etc/passwd and
 * /etc/group; without a group the gid is the same number as the uid (Docker's documented rule).
 * Without the flag, files from the build context, heredocs, downloads and git checkouts belong
 * to root, and files from another stage keep their owners.
 */
import { StepError } from '../errors.js';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import { parseGroup, parsePasswd } from '../exec/users.js';
import type { Owner } from '../rootfs/mkdir.js';
import { readRootfsFile } from '../rootfs/read.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { expand } from './expand.js';
import type { StageState } from './step.js';

const NUMERIC = /^\d+$/;

/** The owner `--chown` names, or undefined when the flag is absent (the caller picks the default). */
export async function chownOwner(ins: CopyInstruction, state: StageState, rootfs: Rootfs): Promise<Owner | undefined> {
  const flag = ins.flags.chown;
  if (flag === undefined || flag === true) return undefined;
  const spec = expand(ins, state, flag);
  if (spec === '') return undefined;
  const [u = '', g] = spec.split(':', 2);
  let uid: number;
  if (NUMERIC.test(u)) uid = Number(u);
  else {
    const entry = parsePasswd((await readRootfsFile(rootfs, '/etc/passwd')) ?? '').find((e) => e.name === u);
    if (!entry) throw new StepError(`${ins.kind} --chown=${spec}: unable to find user ${u}: no matching entries in passwd file`, ins.at);
    uid = entry.uid;
  }
  if (g === undefined || g === '') return { uid, gid: uid };
  if (NUMERIC.test(g)) return { uid, gid: Number(g) };
  const group = parseGroup((await readRootfsFile(rootfs, '/etc/group')) ?? '').find((e) => e.name === g);
  if (!group) throw new StepError(`${ins.kind} --chown=${spec}: unable to find group ${g}: no matching entries in group file`, ins.at);
  return { uid, gid: group.gid };
}
