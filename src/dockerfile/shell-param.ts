/**
 * What each `${NAME<operator>word}` form of the Dockerfile reference ("Environment replacement")
 * evaluates to, given the variable's value. The meanings are POSIX parameter expansion's:
 * - `-` / `:-`  the word when NAME is unset (`:-`: unset or empty), else the value;
 * - `+` / `:+`  the word when NAME is set (`:+`: set and not empty), else nothing;
 * - `?` / `:?`  the value, or an error whose message is the word (`:?`: empty counts as unset);
 * - `#` / `##`  the value without its shortest / longest prefix matching the pattern word;
 * - `%` / `%%`  the same for a suffix;
 * - `/` / `//`  the value with the first / every match of the pattern replaced.
 * Other forms of the shell (`:=`, `${#NAME}`, substrings) are not part of Dockerfile syntax and
 * are refused by the expander before getting here.
 */
import { PatternError, replacePattern, trimPrefix, trimSuffix } from './shell-pattern.js';

/** An expansion that cannot be done; callers add the Dockerfile location. */
export class ShellExpansionError extends Error {}

/** The operators of `${NAME<operator>word}`. */
export type ParamOperator = '-' | ':-' | '+' | ':+' | '?' | ':?' | '#' | '##' | '%' | '%%' | '/' | '//';

/** The operand of an operator: a word, or a pattern with its replacement for `/` and `//`. */
export interface Operand {
  word: string;
  replacement?: string;
}

/** Evaluates `${name<op>operand}` for `value` (undefined: the variable is unset). */
export function applyParamOperator(
  name: string,
  value: string | undefined,
  op: ParamOperator,
  operand: Operand,
): string {
  const { word } = operand;
  // With a colon, an empty value counts as unset.
  const missing = value === undefined || (op.startsWith(':') && value === '');
  switch (op) {
    case '-':
    case ':-':
      return missing ? word : (value ?? '');
    case '+':
    case ':+':
      return missing ? '' : word;
    case '?':
    case ':?':
      if (!missing) return value ?? '';
      throw new ShellExpansionError(
        `${name}: ${word || (value === undefined ? 'is not allowed to be unset' : 'is not allowed to be empty')}`,
      );
    case '#':
    case '##':
    case '%':
    case '%%':
    case '/':
    case '//':
      return matchPattern(value ?? '', op, operand);
  }
}

function matchPattern(value: string, op: '#' | '##' | '%' | '%%' | '/' | '//', operand: Operand): string {
  try {
    switch (op) {
      case '#':
      case '##':
        return trimPrefix(operand.word, value, op === '##');
      case '%':
      case '%%':
        return trimSuffix(operand.word, value, op === '%%');
      case '/':
      case '//':
        return replacePattern(value, operand.word, operand.replacement ?? '', op === '//');
    }
  } catch (err) {
    if (err instanceof PatternError) {
      throw new ShellExpansionError(`invalid pattern (${operand.word}) in substitution: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
}
