/**
 * The arguments of the instructions that carry a command (Dockerfile reference, "Shell and exec
 * form", SHELL, HEALTHCHECK): the shell or exec form shared by RUN, CMD, ENTRYPOINT and
 * HEALTHCHECK CMD; SHELL, which takes the exec form only; and HEALTHCHECK's type word and timing
 * options, which Docker validates when it reads the Dockerfile.
 */
import type { CommandForm, HealthcheckOptions } from './instructions.js';
import { isSpace } from './chars.js';
import { parseGoDuration } from './duration.js';
import { stringFlag, type ParsedFlags } from './flags.js';
import { NOT_STRING_ARRAY, parseJsonArgs } from './json-args.js';
import { fail, type Where } from './located.js';

/** Shell or exec form of `rest` (already trimmed). Empty text is an empty shell command. */
export function commandForm(rest: string, where: Where): CommandForm {
  const json = parseJsonArgs(rest);
  if (json.kind === 'not-strings') fail(where, NOT_STRING_ARRAY);
  if (json.kind === 'json') return { form: 'exec', argv: json.values };
  return { form: 'shell', command: rest };
}

/** Whether a command form has nothing to run. */
export function isEmptyCommand(command: CommandForm): boolean {
  return command.form === 'shell' ? command.command === '' : command.argv.length === 0;
}

/** SHELL accepts only a non-empty JSON array (Docker: "SHELL requires the arguments to be in JSON form"). */
export function shellArgv(rest: string, where: Where): string[] {
  const command = commandForm(rest, where);
  if (command.form === 'shell' && command.command !== '') {
    fail(where, 'SHELL requires the arguments to be in JSON form', 'write SHELL ["/bin/bash", "-c"]');
  }
  if (command.form === 'shell' || command.argv.length === 0) fail(where, 'SHELL requires at least one argument');
  return command.argv;
}

/** HEALTHCHECK's type word and command; `command` is undefined for NONE. */
export interface HealthcheckArgs {
  none: boolean;
  command?: CommandForm;
}

/** `HEALTHCHECK NONE` or `HEALTHCHECK CMD <command>` (the type is case-insensitive). */
export function healthcheckArgs(rest: string, where: Where): HealthcheckArgs {
  if (rest === '') fail(where, 'HEALTHCHECK requires at least one argument');
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep])) sep++;
  let next = sep;
  while (next < rest.length && isSpace(rest[next])) next++;
  const type = rest.slice(0, sep).toUpperCase();
  const after = rest.slice(next);
  if (type === 'NONE') {
    if (after !== '') fail(where, 'HEALTHCHECK NONE takes no arguments');
    return { none: true };
  }
  if (type !== 'CMD')
    fail(
      where,
      `Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`,
      'write HEALTHCHECK [options] CMD <command> or HEALTHCHECK NONE',
    );
  const command = commandForm(after, where);
  if (isEmptyCommand(command)) fail(where, 'Missing command after HEALTHCHECK CMD');
  return { none: false, command };
}

/** Validates HEALTHCHECK's flags into numbers (Docker rejects bad values at parse time). */
export function healthcheckOptions(flags: ParsedFlags, where: Where): HealthcheckOptions {
  const retries = stringFlag(flags, 'retries');
  let retryCount = 0;
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      fail(where, `invalid value for --retries: ${JSON.stringify(retries)}`, 'use a whole number, e.g. --retries=3');
    }
    retryCount = Number(retries);
    if (retryCount < 0) fail(where, `--retries cannot be negative (${retryCount})`);
  }
  return {
    interval: interval(flags, 'interval', where),
    timeout: interval(flags, 'timeout', where),
    startPeriod: interval(flags, 'start-period', where),
    startInterval: interval(flags, 'start-interval', where),
    retries: retryCount,
  };
}

/** A HEALTHCHECK duration in nanoseconds: empty or zero means the runtime default; otherwise at least 1ms. */
function interval(flags: ParsedFlags, name: string, where: Where): number {
  const value = stringFlag(flags, name);
  if (value === undefined || value === '') return 0;
  const ns = parseGoDuration(value);
  if (ns === undefined) {
    fail(
      where,
      `invalid duration for --${name}: ${JSON.stringify(value)}`,
      'use a duration such as 30s, 1m30s or 500ms',
    );
  }
  if (ns !== 0 && ns < 1e6) fail(where, `--${name} cannot be less than 1ms`);
  return ns;
}
