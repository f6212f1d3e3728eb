/**
 * Instruction flags (`--name=value`), split off the instruction line and checked strictly against
 * Docker's current flag set per instruction. Kaniko silently ignores flags it does not know; Kiln
 * rejects them with a suggestion, because a flag that is accepted but not honoured is a lie.
 */
import type { InstructionKind } from './instructions.js';
import { isSpace } from './chars.js';
import { fail, type Where } from './located.js';
import { suggest } from './suggest.js';

/** How a flag takes its value: a boolean, one string, or a string that may be repeated. */
export type FlagType = 'bool' | 'string' | 'strings';

/**
 * Docker's flags per instruction (Dockerfile reference, syntax 1.x stable). ADD `--unpack` and
 * COPY/ADD `--exclude`, `--parents` are the newest additions; RUN `--device` is labs-only and
 * therefore unknown here.
 */
export const FLAG_SPECS: Readonly<Partial<Record<InstructionKind, Readonly<Record<string, FlagType>>>>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: {
    chown: 'string',
    chmod: 'string',
    link: 'bool',
    checksum: 'string',
    'keep-git-dir': 'bool',
    unpack: 'bool',
    exclude: 'strings',
  },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

/**
 * Checked flags of one instruction, by name, for the builders to turn into the instruction's typed
 * fields ({@link stringFlag}, {@link boolFlag}, `lists`).
 */
export interface ParsedFlags {
  /** Every flag given: strings by value (repeatable ones: the last value), true booleans as `true`. */
  values: Record<string, string | true>;
  /** Every boolean flag given, true or false (ADD `--unpack=false` matters). */
  booleans: Record<string, boolean>;
  /** Every value of each repeatable flag (`--mount`, `--exclude`), in order. */
  lists: Record<string, string[]>;
}

/** The value of the string flag `name`, or undefined when it was not given. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const value = flags.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether the boolean flag `name` was given as true (`--name` or `--name=true`). */
export function boolFlag(flags: ParsedFlags, name: string): boolean {
  return flags.booleans[name] === true;
}

/**
 * Splits the flags off the arguments of an instruction (`rest` is the text after the keyword).
 * Flags are the leading words that start with `--`; within a flag word quotes group (and are
 * removed) and `\\` takes the next character literally — always `\\`, whatever the escape
 * directive, as in Docker. A bare `--` ends the flags without being one. Returns the flag words and
 * the text after them.
 */
export function extractBuilderFlags(rest: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < rest.length && isSpace(rest[pos])) pos++;
    if (pos === rest.length) return { flags, rest: '' };
    if (!rest.startsWith('--', pos)) return { flags, rest: rest.slice(pos) };
    const { word, end } = readFlagWord(rest, pos);
    if (word === '--') return { flags, rest: rest.slice(end) };
    flags.push(word);
    pos = end;
  }
}

/** One flag word from `start` to the first whitespace outside quotes, quotes and escapes removed. */
function readFlagWord(text: string, start: number): { word: string; end: number } {
  let word = '';
  let quote: string | undefined;
  let pos = start;
  for (; pos < text.length; pos++) {
    const ch = text[pos] ?? '';
    if (quote === undefined && isSpace(ch)) break;
    if (ch === '\\') {
      pos++;
      word += text[pos] ?? ''; // a trailing backslash is dropped
    } else if (quote === undefined && (ch === '"' || ch === "'")) {
      quote = ch;
    } else if (ch === quote) {
      quote = undefined;
    } else {
      word += ch;
    }
  }
  return { word, end: pos };
}

/**
 * Checks flag words against `kind`'s set. Unknown flags are errors with a suggestion (Kaniko
 * ignores them silently); a single-valued flag may not repeat; a boolean flag is `--f`, `--f=true`
 * or `--f=false` (any case); a string flag needs `=value`. Messages are Docker's.
 */
export function parseFlags(kind: InstructionKind, words: readonly string[], where: Where): ParsedFlags {
  const spec = FLAG_SPECS[kind] ?? {};
  const parsed: ParsedFlags = { values: {}, booleans: {}, lists: {} };
  const seen = new Set<string>();
  for (const word of words) {
    const body = word.slice(2); // every word starts with "--"
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const type = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (type === undefined) {
      const known = Object.keys(spec);
      const close = suggest(name, known, true);
      const hint =
        close !== undefined
          ? `did you mean --${close}?`
          : known.length === 0
            ? `${kind} takes no flags`
            : `${kind} accepts ${known.map((k) => `--${k}`).join(', ')}`;
      fail(where, `unknown flag: --${name} for ${kind}`, hint);
    }
    if (seen.has(name) && type !== 'strings') fail(where, `duplicate flag specified: --${name} for ${kind}`);
    seen.add(name);
    if (type === 'bool') {
      if (value === '') fail(where, `missing a value on flag: --${name} for ${kind}`);
      const lower = value?.toLowerCase();
      if (lower !== undefined && lower !== 'true' && lower !== 'false') {
        fail(where, `expecting boolean value for flag --${name} of ${kind}, not: ${value ?? ''}`);
      }
      parsed.booleans[name] = lower !== 'false';
      if (lower !== 'false') parsed.values[name] = true;
      continue;
    }
    if (value === undefined) fail(where, `missing a value on flag: --${name} for ${kind}`, `write --${name}=<value>`);
    if (type === 'strings') (parsed.lists[name] ??= []).push(value);
    parsed.values[name] = value;
  }
  return parsed;
}
