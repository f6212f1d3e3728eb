/**
 * Instruction flags (`--name=value`), split off the instruction line and checked strictly against
 * Docker's current flag set per instruction. Kaniko silently ignores flags it does not know; Kiln
 * rejects them with a suggestion, because a flag that is accepted but not honoured is a lie.
 */
import type { InstructionKind } from './instructions.js';
import { isSpace } from './chars.js';
import { fail, type Where } from './located.js';
import { suggest } from './suggest.js';

/** How a flag takes its value, as BuildKit's BFlags: boolean, one string, or a repeatable string. */
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

/** Checked flags, in the shapes instructions.ts exposes them. */
export interface ParsedFlags {
  /** Every flag given: strings by value (repeatable ones: the last value), true booleans as `true`. */
  values: Record<string, string | true>;
  /** Every boolean flag given, true or false (ADD `--unpack=false` matters). */
  booleans: Record<string, boolean>;
  /** Every value of each repeatable flag (`--mount`, `--exclude`), in order. */
  lists: Record<string, string[]>;
}

/**
 * BuildKit's `extractBuilderFlags`: leading words that start with `--` are flags; quotes inside a
 * flag word are removed and `\` escapes the next character (always `\`, whatever the escape
 * directive). A bare `--` ends the flags. Returns the flag words and the rest of the line.
 */
export function extractBuilderFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOk = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const atEnd = pos === line.length;
    let ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { flags, rest: line.slice(pos) };
      phase = 'word';
    }
    if (atEnd) {
      if (word !== '--' && (blankOk || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, rest: line.slice(pos) };
        if (blankOk || word.length > 0) flags.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue; // a trailing backslash is dropped
        ch = line[++pos] ?? '';
      }
      word += ch;
      continue;
    }
    // phase === 'quote'
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      ch = line[++pos] ?? '';
    }
    word += ch;
  }
  return { flags, rest: '' };
}

/**
 * Checks flag words against `kind`'s set (BuildKit's `BFlags.Parse`, made strict): unknown flags
 * and repeated single-valued flags are errors; boolean flags accept `--f`, `--f=true`, `--f=false`;
 * string flags need `=value`.
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
        close !== undefined ? `did you mean --${close}?`
        : known.length === 0 ? `${kind} takes no flags`
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
