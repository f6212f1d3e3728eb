/**
 * Kaniko's command lines as pflag reads them, rewritten into the forms commander reads (PURE:
 * no commander here, only the facts {@link FlagSpec} gives about the flags).
 *
 * pflag, Kaniko's flag parser, accepts what commander does not:
 * - `-f=Dockerfile`: a short flag with `=` and a value. commander would take `=Dockerfile` as
 *   the value; pflag (`parseSingleShortArg`) takes what follows the `=`. `-f==x` is the value
 *   `=x`, and `-f=` alone is the value `=` (pflag's `-farg` branch, which commander shares).
 * - `--flag=true|false` on a boolean flag, with Go's `strconv.ParseBool` spellings.
 * - Kaniko 1.x's deprecated spellings (`checkNoDeprecatedFlags`, `MarkDeprecated` in Kaniko's
 *   cmd/executor/cmd/root.go), accepted with a warning naming the new flag.
 *
 * A token that is the value of the flag before it (`--label --tarPath`) is passed on untouched,
 * as pflag takes the next argument as a required value whatever it looks like; so is everything
 * after `--`.
 */
import { UsageError } from '../errors.js';

/** What the normaliser needs to know about the program's flags. */
export interface FlagSpec {
  /** Long names (without `--`) and short letters of the flags that require a value. */
  takesValue: ReadonlySet<string>;
  /** Long names of the boolean flags (no value), which also take pflag's `--flag=true|false`. */
  booleans: ReadonlySet<string>;
  /**
   * Long names of the boolean flags that default to true and also have a `--no-` form: their
   * `--flag=false` becomes `--no-flag` (for the others, false is their default: it is dropped).
   */
  negatable?: ReadonlySet<string>;
  /** The short letters the program defines. */
  shorts: ReadonlySet<string>;
}

/** Kaniko 1.x's deprecated flags, each with the flag that replaced it. */
export const DEPRECATED_ALIASES: Readonly<Record<string, string>> = {
  snapshotMode: 'snapshot-mode',
  tarPath: 'tar-path',
  customPlatform: 'custom-platform',
  'whitelist-var-run': 'ignore-var-run',
};

/** A command line in commander's forms, and the deprecation warnings to log once a logger exists. */
export interface NormalisedArgv {
  argv: string[];
  warnings: string[];
}

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** Rewrites pflag's forms of `argv` (without node and script) into commander's. */
export function normaliseArgv(argv: readonly string[], spec: FlagSpec): NormalisedArgv {
  const out: string[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    let flag: string | undefined; // the flag whose value may follow as the next argument
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const short = /^-([^-])=(.+)$/s.exec(arg);
    if (long) {
      let name = long[1] ?? '';
      const value = long[2];
      const alias = DEPRECATED_ALIASES[name];
      if (alias !== undefined) {
        // Kaniko's own words (checkNoDeprecatedFlags).
        warnings.push(`Flag --${name} is deprecated. Use: --${alias}`);
        name = alias;
      }
      if (value !== undefined && spec.booleans.has(name)) {
        if (TRUE.includes(value)) out.push(`--${name}`);
        else if (FALSE.includes(value)) {
          if (spec.negatable?.has(name) === true) out.push(`--no-${name}`);
        } else
          throw new UsageError(`--${name}=${value}: expected true or false`, {
            hint: `write --${name}, --${name}=true or --${name}=false`,
          });
        continue;
      }
      out.push(value === undefined ? `--${name}` : `--${name}=${value}`);
      if (value === undefined) flag = name;
    } else if (short && spec.shorts.has(short[1] ?? '')) {
      out.push(`-${short[1] ?? ''}`, short[2] ?? '');
    } else {
      out.push(arg);
      // `-f X` takes X; `-fX` and `-f=` carry their value.
      if (/^-[^-]$/.test(arg)) flag = arg.slice(1);
    }
    const next = argv[i + 1];
    if (flag !== undefined && spec.takesValue.has(flag) && next !== undefined) {
      out.push(next);
      i++;
    }
  }
  return { argv: out, warnings };
}
