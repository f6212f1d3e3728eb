/**
 * The arguments of COPY, ADD and VOLUME: a JSON array of strings or whitespace-separated words
 * (Dockerfile reference: "COPY [OPTIONS] <src> ... <dest>" and its JSON form, needed for paths
 * with spaces). COPY and ADD also take heredocs as sources: a `<<NAME` word creates the file NAME
 * from the heredoc's body; a heredoc cannot be the destination.
 */
import type { CopyInstruction, Heredoc } from './instructions.js';
import { splitOnWhitespace, trimSpace } from './chars.js';
import { boolFlag, stringFlag, type ParsedFlags } from './flags.js';
import { chompHeredoc, parseHeredocWord, type RawHeredoc } from './heredoc.js';
import { NOT_STRING_ARRAY, parseJsonArgs } from './json-args.js';
import { fail, type Where } from './located.js';

/** The words of a JSON array or of whitespace-separated text, and which form it was. */
export function listArgs(rest: string, where: Where): { words: string[]; json: boolean } {
  const json = parseJsonArgs(rest);
  if (json.kind === 'not-strings') fail(where, NOT_STRING_ARRAY);
  if (json.kind === 'json') return { words: json.values, json: true };
  return { words: splitOnWhitespace(rest), json: false };
}

/** VOLUME's paths: at least one, none empty. */
export function volumePaths(rest: string, where: Where): string[] {
  const { words } = listArgs(rest, where);
  if (words.length === 0) fail(where, 'VOLUME requires at least one argument');
  return words.map((word) => {
    const path = trimSpace(word);
    if (path === '') fail(where, 'VOLUME specified can not be an empty string');
    return path;
  });
}

/** A heredoc as instructions.ts exposes it: `<<-` bodies have their tabs removed. */
export function toHeredoc(raw: RawHeredoc): Heredoc {
  return {
    name: raw.name,
    content: raw.chomp ? chompHeredoc(raw.content) : raw.content,
    expand: raw.expand,
    chomp: raw.chomp,
  };
}

/** What {@link copyInstruction} reads besides the instruction's kind and common fields. */
export interface CopyInstructionParts {
  /** The instruction's arguments after its flags. */
  rest: string;
  /** The heredoc bodies read after the instruction's line. */
  bodies: readonly RawHeredoc[];
  flags: ParsedFlags;
  /** Where errors point. */
  where: Where;
}

/** COPY or ADD from its arguments, flags and the heredoc bodies read after its line. */
export function copyInstruction(
  kind: 'COPY' | 'ADD',
  base: Pick<CopyInstruction, 'at' | 'text'>,
  parts: CopyInstructionParts,
): CopyInstruction {
  const { rest, bodies, flags, where } = parts;
  const { words, json } = listArgs(rest, where);
  const dest = words[words.length - 1];
  if (dest === undefined || words.length < 2) {
    fail(
      where,
      `${kind} requires at least two arguments, but only one was provided. Destination could not be determined`,
      `write ${kind} <src>... <dest>`,
    );
  }
  if (parseHeredocWord(dest) !== undefined) fail(where, `${kind} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const word of words.slice(0, -1)) {
    // Only the shell form opens heredocs; a body is matched to its opener by name.
    const header = json ? undefined : parseHeredocWord(word);
    const body = header && [...bodies].reverse().find((b) => b.name === header.name);
    if (body) heredocs.push(toHeredoc(body));
    else sources.push(word);
  }
  return { kind, ...base, sources, dest, heredocs, ...copyFlags(kind, flags) };
}

/** The fields of COPY and ADD that their flags set. */
type CopyFlags = Omit<CopyInstruction, 'kind' | 'at' | 'text' | 'sources' | 'dest' | 'heredocs'>;

/** The flags of COPY or ADD as typed fields; flags.ts has already refused the other kind's flags. */
function copyFlags(kind: 'COPY' | 'ADD', flags: ParsedFlags): CopyFlags {
  const from = stringFlag(flags, 'from');
  const chown = stringFlag(flags, 'chown');
  const chmod = stringFlag(flags, 'chmod');
  const checksum = stringFlag(flags, 'checksum');
  const unpack = flags.booleans.unpack;
  return {
    ...(from === undefined ? {} : { from }),
    ...(chown === undefined ? {} : { chown }),
    ...(chmod === undefined ? {} : { chmod }),
    link: boolFlag(flags, 'link'),
    parents: boolFlag(flags, 'parents'),
    excludes: flags.lists.exclude ?? [],
    ...(checksum === undefined ? {} : { checksum }),
    keepGitDir: boolFlag(flags, 'keep-git-dir'),
    ...(kind === 'ADD' && unpack !== undefined ? { unpack } : {}),
  };
}
