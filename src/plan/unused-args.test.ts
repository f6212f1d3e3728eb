import { describe, expect, test } from 'vitest';
import { parseDockerfile } from '../dockerfile/parse.js';
import type { Platform } from '../oci/platform.js';
import { planBuild } from './planner.js';
import { unusedBuildArgs } from './unused-args.js';

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };

interface Case {
  name: string;
  dockerfile: string;
  buildArgs: string[];
  target?: string;
  skipUnusedStages?: boolean;
  unused: string[];
}

const cases: Case[] = [
  { name: 'no build args', dockerfile: 'FROM scratch\nARG A\n', buildArgs: [], unused: [] },
  { name: 'a stage ARG consumes its build arg', dockerfile: 'FROM scratch\nARG A\n', buildArgs: ['A'], unused: [] },
  {
    name: 'a build arg no ARG declares is reported, in the order given',
    dockerfile: 'FROM scratch\nARG A\n',
    buildArgs: ['Z', 'A', 'B'],
    unused: ['Z', 'B'],
  },
  {
    name: 'an ARG with a default consumes too; several names on one line',
    dockerfile: 'FROM scratch\nARG A=1 B\n',
    buildArgs: ['A', 'B'],
    unused: [],
  },
  {
    name: 'a global ARG consumes even when no FROM uses it',
    dockerfile: 'ARG G\nFROM scratch\n',
    buildArgs: ['G'],
    unused: [],
  },
  {
    name: 'a name is case-sensitive',
    dockerfile: 'FROM scratch\nARG a\n',
    buildArgs: ['A'],
    unused: ['A'],
  },
  {
    name: "Docker's predefined proxy args never warn",
    dockerfile: 'FROM scratch\n',
    buildArgs: ['HTTP_PROXY', 'https_proxy', 'FTP_PROXY', 'no_proxy', 'all_proxy', 'Http_Proxy'],
    unused: ['Http_Proxy'],
  },
  {
    name: 'an automatic platform ARG passed as a build arg warns unless an ARG declares it',
    dockerfile: 'FROM scratch\nARG TARGETOS\n',
    buildArgs: ['TARGETARCH', 'TARGETOS'],
    unused: ['TARGETARCH'],
  },
  {
    name: 'the ARGs of every stage up to the target count',
    dockerfile: 'FROM scratch AS a\nARG A\nFROM scratch AS b\nARG B\n',
    buildArgs: ['A', 'B'],
    unused: [],
  },
  {
    name: 'the ARGs of stages after --target do not',
    dockerfile: 'FROM scratch AS a\nARG A\nFROM scratch AS b\nARG B\n',
    target: 'a',
    buildArgs: ['A', 'B'],
    unused: ['B'],
  },
  {
    name: 'an unused stage before the target counts without --skip-unused-stages',
    dockerfile: 'FROM scratch AS unused\nARG U\nFROM scratch AS final\nARG F\n',
    buildArgs: ['U', 'F'],
    unused: [],
  },
  {
    name: 'an unused stage skipped by --skip-unused-stages does not',
    dockerfile: 'FROM scratch AS unused\nARG U\nFROM scratch AS final\nARG F\n',
    skipUnusedStages: true,
    buildArgs: ['U', 'F'],
    unused: ['U'],
  },
  {
    name: 'a stage the target copies from counts with --skip-unused-stages',
    dockerfile: 'FROM scratch AS dep\nARG D\nFROM scratch AS final\nCOPY --from=dep /a /a\n',
    skipUnusedStages: true,
    buildArgs: ['D'],
    unused: [],
  },
  {
    name: 'an ARG of the stage the target is built FROM consumes it (the target inherits that ARG)',
    dockerfile: 'FROM scratch AS base\nARG A\nFROM scratch AS other\nARG O\nFROM base\nRUN true\n',
    skipUnusedStages: true,
    buildArgs: ['A', 'O'],
    unused: ['O'],
  },
  {
    name: 'an ONBUILD ARG does not run in its own stage',
    dockerfile: 'FROM scratch\nONBUILD ARG T\n',
    buildArgs: ['T'],
    unused: ['T'],
  },
  {
    name: 'an ONBUILD ARG runs in a later stage built FROM it',
    dockerfile: 'FROM scratch AS parent\nONBUILD ARG T\nFROM parent\n',
    buildArgs: ['T'],
    unused: [],
  },
  {
    name: 'only in a stage built FROM it, not in one that copies from it',
    dockerfile: 'FROM scratch AS parent\nONBUILD ARG T\nFROM scratch\nCOPY --from=parent /a /a\n',
    buildArgs: ['T'],
    unused: ['T'],
  },
];

describe('unusedBuildArgs', () => {
  test.each(cases)('$name', (c) => {
    const buildArgs = new Map(c.buildArgs.map((k) => [k, 'v']));
    const plan = planBuild(parseDockerfile(c.dockerfile), {
      buildArgs,
      ...(c.target !== undefined ? { target: c.target } : {}),
      skipUnusedStages: c.skipUnusedStages ?? false,
      targetPlatform: AMD64,
      buildPlatform: AMD64,
    });
    expect(unusedBuildArgs(plan, buildArgs)).toEqual(c.unused);
  });
});
