/**
 * One instruction as written → one typed {@link Instruction}: the keyword is looked up (with a
 * suggestion for typos), flags are checked strictly (flags.ts), and the arguments take the shape
 * the Dockerfile reference gives each instruction, with Docker's error messages. Arguments stay
 * UNEXPANDED; the stage builder expands them with shell-lex.ts once the variables in scope are known.
 */
import type { FromInstruction, Instruction, InstructionKind, RunInstruction } from './instructions.js';
import { splitOnWhitespace, trimSpace } from './chars.js';
import { commandForm, healthcheckArgs, healthcheckOptions, isEmptyCommand, shellArgv } from './build-command.js';
import { copyInstruction, toHeredoc, volumePaths } from './build-copy.js';
import { parseFlags, stringFlag, type ParsedFlags } from './flags.js';
import { splitInstruction } from './instruction-line.js';
import { KeyValueError, parseArgs, parseKeyValues } from './key-value.js';
import { fail, type Where } from './located.js';
import type { SourceInstruction } from './outline.js';
import { suggest } from './suggest.js';

/** Every instruction keyword of the Dockerfile reference. */
export const KEYWORDS: readonly InstructionKind[] = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
];

// A stage name starts with a letter and holds only [a-z0-9-_.] once lower-cased (Docker's rule).
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Types one instruction; `escape` is the file's escape character. */
export function buildInstruction(source: SourceInstruction, escape: string): Instruction {
  const where: Where = { at: source.at, source: source.source };
  const { flagWords, rest } = splitInstruction(source.text);
  const kind = keywordKind(source.keyword, where);
  const flags = parseFlags(kind, flagWords, where);
  const base = { at: source.at, text: trimSpace(source.text) };

  switch (kind) {
    case 'FROM':
      return { kind, ...base, ...fromArgs(rest, where), ...fromFlags(flags) };
    case 'RUN': {
      const command = commandForm(rest, where);
      if (isEmptyCommand(command)) fail(where, 'RUN requires at least one argument');
      return { kind, ...base, command, heredocs: source.heredocs.map(toHeredoc), ...runFlags(flags) };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind, ...base, command: commandForm(rest, where) };
    case 'SHELL':
      return { kind, ...base, argv: shellArgv(rest, where) };
    case 'HEALTHCHECK': {
      const args = healthcheckArgs(rest, where);
      if (args.command === undefined) return { kind, ...base, none: true };
      return { kind, ...base, none: false, command: args.command, options: healthcheckOptions(flags, where) };
    }
    case 'COPY':
    case 'ADD':
      return copyInstruction(kind, base, { rest, bodies: source.heredocs, flags, where });
    case 'ENV':
    case 'LABEL':
      return { kind, ...base, pairs: keyValues(() => parseKeyValues(rest, kind, escape), where) };
    case 'ARG':
      return { kind, ...base, args: keyValues(() => parseArgs(rest, escape), where) };
    case 'EXPOSE': {
      const ports = splitOnWhitespace(rest);
      if (ports.length === 0) fail(where, 'EXPOSE requires at least one argument');
      return { kind, ...base, ports };
    }
    case 'VOLUME':
      return { kind, ...base, paths: volumePaths(rest, where) };
    case 'WORKDIR':
      return { kind, ...base, path: wholeRest(kind, rest, where) };
    case 'USER':
      return { kind, ...base, user: wholeRest(kind, rest, where) };
    case 'STOPSIGNAL':
      return { kind, ...base, signal: wholeRest(kind, rest, where) };
    case 'MAINTAINER':
      return { kind, ...base, name: wholeRest(kind, rest, where) };
    case 'ONBUILD':
      return { kind, ...base, trigger: onbuildTrigger(source, rest, escape, where) };
  }
}

function keywordKind(keyword: string, where: Where): InstructionKind {
  const kind = KEYWORDS.find((k) => k === keyword.toUpperCase());
  if (kind !== undefined) return kind;
  const close = suggest(keyword, KEYWORDS, false);
  return fail(where, `unknown instruction: ${keyword}`, close === undefined ? undefined : `did you mean ${close}?`);
}

/** `FROM image` or `FROM image AS name`; the name is lower-cased as Docker does. */
function fromArgs(rest: string, where: Where): { image: string; stageName?: string } {
  const words = splitOnWhitespace(rest);
  const [image, as, name] = words;
  const shaped = words.length === 1 || (words.length === 3 && as?.toLowerCase() === 'as');
  if (image === undefined || !shaped)
    fail(where, 'FROM requires either one or three arguments', 'write FROM <image> [AS <name>]');
  if (name === undefined) return { image };
  const stageName = name.toLowerCase();
  if (!STAGE_NAME.test(stageName)) {
    fail(
      where,
      `invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`,
    );
  }
  return { image, stageName };
}

/** FROM's `--platform`. */
function fromFlags(flags: ParsedFlags): Pick<FromInstruction, 'platform'> {
  const platform = stringFlag(flags, 'platform');
  return platform === undefined ? {} : { platform };
}

/** RUN's `--mount` (every value), `--network` and `--security`. */
function runFlags(flags: ParsedFlags): Pick<RunInstruction, 'mounts' | 'network' | 'security'> {
  const network = stringFlag(flags, 'network');
  const security = stringFlag(flags, 'security');
  return {
    mounts: flags.lists.mount ?? [],
    ...(network === undefined ? {} : { network }),
    ...(security === undefined ? {} : { security }),
  };
}

/** WORKDIR, USER, STOPSIGNAL and MAINTAINER take the whole rest of the line as their one argument. */
function wholeRest(kind: InstructionKind, rest: string, where: Where): string {
  if (rest === '') fail(where, `${kind} requires exactly one argument`);
  return rest;
}

function keyValues<T>(parse: () => T, where: Where): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof KeyValueError) fail(where, err.message);
    throw err;
  }
}

/**
 * The trigger text ONBUILD stores in the image config, after checking that the trigger is itself
 * a valid instruction that may be a trigger (not ONBUILD, FROM or MAINTAINER). Like Docker, the
 * stored text is the line without `ONBUILD`, followed by each heredoc's body and closing line.
 */
function onbuildTrigger(source: SourceInstruction, rest: string, escape: string, where: Where): string {
  if (rest === '') fail(where, 'ONBUILD requires at least one argument');
  const trigger = splitInstruction(rest).keyword;
  const upper = trigger.toUpperCase();
  if (upper === 'ONBUILD') fail(where, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (upper === 'FROM' || upper === 'MAINTAINER') fail(where, `${upper} isn't allowed as an ONBUILD trigger`);
  buildInstruction({ ...source, keyword: trigger, text: rest }, escape);
  let stored = source.text.replace(/^\s*ONBUILD\s*/i, '');
  for (const heredoc of source.heredocs) stored += `\n${heredoc.content}${heredoc.name}`;
  return stored;
}
