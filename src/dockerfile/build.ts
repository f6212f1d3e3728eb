/**
 * One logical line → one typed {@link Instruction}, following BuildKit's per-instruction parsers
 * (`frontend/dockerfile/instructions/parse.go`): keyword lookup with a suggestion for typos,
 * strict flags, argument counts, and the argument shape of each instruction. Arguments stay
 * UNEXPANDED; the stage builder expands them with shell-lex.ts once the scope is known.
 */
import type { CopyInstruction, Heredoc, Instruction, InstructionKind } from './instructions.js';
import { splitOnWhitespace, trimSpace } from './chars.js';
import { commandForm, healthcheckArgs, healthcheckOptions, isEmptyCommand, shellArgv } from './build-command.js';
import { parseFlags, type ParsedFlags } from './flags.js';
import { chompHeredoc, parseHeredocWord, type HeredocHeader } from './heredoc.js';
import { NOT_STRING_ARRAY, parseJsonArgs } from './json-args.js';
import { KeyValueError, parseArgs, parseKeyValues } from './key-value.js';
import type { LogicalLine, RawHeredoc } from './lines.js';
import { fail, type Where } from './located.js';
import { splitCommand } from './split-command.js';
import { suggest } from './suggest.js';

/** Every Dockerfile instruction keyword Docker knows. */
export const KEYWORDS: readonly InstructionKind[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK',
  'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

// Docker: a stage name starts with a letter and has only [a-z0-9-_.] after lower-casing.
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** Builds the instruction of one logical line; `escape` is the file's escape character. */
export function buildInstruction(line: LogicalLine, escape: string): Instruction {
  const where: Where = { at: line.at, source: line.source };
  const { keyword, flagWords, rest } = splitCommand(line.text);
  const kind = KEYWORDS.find((k) => k === keyword.toUpperCase());
  if (kind === undefined) {
    const close = suggest(keyword, KEYWORDS, false);
    fail(where, `unknown instruction: ${keyword}`, close === undefined ? undefined : `did you mean ${close}?`);
  }
  const flags = parseFlags(kind, flagWords, where);
  const base = { at: line.at, text: trimSpace(line.text), flags: flags.values };

  switch (kind) {
    case 'FROM': {
      const args = splitOnWhitespace(rest);
      const [image, as, name] = args;
      if (image === undefined || !(args.length === 1 || (args.length === 3 && as?.toLowerCase() === 'as'))) {
        fail(where, 'FROM requires either one or three arguments', 'write FROM <image> [AS <name>]');
      }
      if (name === undefined) return { kind, ...base, image };
      const stageName = name.toLowerCase();
      if (!STAGE_NAME.test(stageName)) {
        fail(where, `invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`);
      }
      return { kind, ...base, image, stageName };
    }
    case 'RUN': {
      const command = commandForm(rest, where);
      if (isEmptyCommand(command)) fail(where, 'RUN requires at least one argument');
      return { kind, ...base, command, heredocs: line.heredocs.map(toHeredoc), mounts: flags.lists.mount ?? [] };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind, ...base, command: commandForm(rest, where) };
    case 'SHELL':
      return { kind, ...base, argv: shellArgv(rest, where) };
    case 'HEALTHCHECK': {
      const args = healthcheckArgs(rest, where);
      if (args.none || args.command === undefined) return { kind, ...base, none: true };
      return { kind, ...base, none: false, command: args.command, options: healthcheckOptions(flags.values, where) };
    }
    case 'COPY':
    case 'ADD':
      return copyInstruction(kind, base, rest, line.heredocs, flags, where);
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
      return { kind, ...base, path: exactlyOne(kind, rest, where) };
    case 'USER':
      return { kind, ...base, user: exactlyOne(kind, rest, where) };
    case 'STOPSIGNAL':
      return { kind, ...base, signal: exactlyOne(kind, rest, where) };
    case 'MAINTAINER':
      return { kind, ...base, name: exactlyOne(kind, rest, where) };
    case 'ONBUILD':
      return { kind, ...base, trigger: onbuildTrigger(line, rest, escape, where) };
  }
}

/** WORKDIR, USER, STOPSIGNAL, MAINTAINER take the whole rest of the line as their one argument. */
function exactlyOne(kind: InstructionKind, rest: string, where: Where): string {
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

/** JSON array or whitespace-separated words (BuildKit `parseMaybeJSONToList`). */
function listArgs(rest: string, where: Where): { words: string[]; json: boolean } {
  const json = parseJsonArgs(rest);
  if (json.kind === 'not-strings') fail(where, NOT_STRING_ARRAY);
  if (json.kind === 'json') return { words: json.values, json: true };
  return { words: splitOnWhitespace(rest), json: false };
}

function volumePaths(rest: string, where: Where): string[] {
  const { words } = listArgs(rest, where);
  if (words.length === 0) fail(where, 'VOLUME requires at least one argument');
  return words.map((w) => {
    const path = trimSpace(w);
    if (path === '') fail(where, 'VOLUME specified can not be an empty string');
    return path;
  });
}

function copyInstruction(
  kind: 'COPY' | 'ADD',
  base: Pick<CopyInstruction, 'at' | 'text' | 'flags'>,
  rest: string,
  bodies: readonly RawHeredoc[],
  flags: ParsedFlags,
  where: Where,
): CopyInstruction {
  const { words, json } = listArgs(rest, where);
  const dest = words[words.length - 1];
  if (dest === undefined || words.length < 2) {
    fail(where, `${kind} requires at least two arguments, but only one was provided. Destination could not be determined`, `write ${kind} <src>... <dest>`);
  }
  if (heredocOf(dest) !== undefined) fail(where, `${kind} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const word of words.slice(0, -1)) {
    // A `<<NAME` source takes its content from the body read after the line (shell form only).
    const header = json ? undefined : heredocOf(word);
    const body = header && [...bodies].reverse().find((b) => b.name === header.name);
    if (header && body) heredocs.push(toHeredoc(body));
    else sources.push(word);
  }
  const instruction: CopyInstruction = { kind, ...base, sources, dest, heredocs, excludes: flags.lists.exclude ?? [] };
  const unpack = flags.booleans.unpack;
  return kind === 'ADD' && unpack !== undefined ? { ...instruction, unpack } : instruction;
}

function heredocOf(word: string): HeredocHeader | undefined {
  try {
    return parseHeredocWord(word);
  } catch {
    return undefined; // BuildKit's MustParseHeredoc ignores malformed delimiters here
  }
}

function toHeredoc(raw: RawHeredoc): Heredoc {
  return { name: raw.name, content: raw.chomp ? chompHeredoc(raw.content) : raw.content, expand: raw.expand, chomp: raw.chomp };
}

/**
 * The ONBUILD trigger text as Docker stores it, after checking that the trigger itself parses:
 * ONBUILD cannot chain, and FROM/MAINTAINER cannot be triggers.
 */
function onbuildTrigger(line: LogicalLine, rest: string, escape: string, where: Where): string {
  if (rest === '') fail(where, 'ONBUILD requires at least one argument');
  const trigger = splitCommand(rest).keyword.toUpperCase();
  if (trigger === 'ONBUILD') fail(where, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === 'FROM' || trigger === 'MAINTAINER') fail(where, `${trigger} isn't allowed as an ONBUILD trigger`);
  buildInstruction({ ...line, text: rest }, escape);
  let expression = line.text.replace(/^\s*ONBUILD\s*/i, '');
  for (const h of line.heredocs) expression += `\n${h.content}${h.name}`;
  return expression;
}
