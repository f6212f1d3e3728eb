/**
 * `--chown=user[:group]` of COPY and ADD: names are looked up in the image's /etc/passwd and
 * /etc/group; without a group the gid is the same number as the uid (Docker's documented rule).
 * Without the flag, files from the build context, heredocs, downloads and git checkouts belong
 * to root, and files from another stage keep their owners. Ids above 2^31−1, written or looked
 * up, are a Dockerfile error: the kernel would take them modulo 2^32 (4294967296 is root).
 */
import { DockerfileError, StepError } from '../errors.js';
import type { CopyInstruction } from '../dockerfile/instructions.js';
import { entryIdError, parseGroup, parsePasswd, userSpecError } from '../exec/users.js';
import type { Owner } from '../rootfs/mkdir.js';
import { readRootfsFile } from '../rootfs/read.js';
import type { Rootfs } from '../rootfs/rootfs.js';
import { expand } from './expand.js';
import type { StageState } from './step.js';

const NUMERIC = /^\d+$/;

/** The owner `--chown` names, or undefined when the flag is absent (the caller picks the default). */
export async function chownOwner(ins: CopyInstruction, state: StageState, rootfs: Rootfs): Promise<Owner | undefined> {
  const flag = ins.chown;
  if (flag === undefined) return undefined;
  const spec = expand(ins, state, flag);
  if (spec === '') return undefined;
  const refuse = (why: string): never => {
    throw new DockerfileError(`${ins.kind} --chown=${spec}: ${why}`, ins.at, { source: ins.text });
  };
  const specError = userSpecError(spec);
  if (specError) refuse(specError);
  const [u = '', g] = spec.split(':', 2);
  let uid: number;
  if (NUMERIC.test(u)) uid = Number(u);
  else {
    const entry = parsePasswd((await readRootfsFile(rootfs, '/etc/passwd')) ?? '').find((e) => e.name === u);
    if (!entry)
      throw new StepError(
        `${ins.kind} --chown=${spec}: unable to find user ${u}: no matching entries in passwd file`,
        ins.at,
      );
    const rangeError = entryIdError(`user ${u}`, 'uid', entry.uid, '/etc/passwd');
    if (rangeError) refuse(rangeError);
    uid = entry.uid;
  }
  if (g === undefined || g === '') return { uid, gid: uid };
  if (NUMERIC.test(g)) return { uid, gid: Number(g) };
  const group = parseGroup((await readRootfsFile(rootfs, '/etc/group')) ?? '').find((e) => e.name === g);
  if (!group)
    throw new StepError(
      `${ins.kind} --chown=${spec}: unable to find group ${g}: no matching entries in group file`,
      ins.at,
    );
  const rangeError = entryIdError(`group ${g}`, 'gid', group.gid, '/etc/group');
  if (rangeError) refuse(rangeError);
  return { uid, gid: group.gid };
}
