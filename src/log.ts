/**
 * The logger: the only writer to stderr besides `cli/output.ts`. Levels and formats follow
 * Kaniko's `--verbosity` and `--log-format` flags. It takes its sink and clock as arguments
 * (house rule 4: no hidden inputs).
 */

export const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'color', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  trace(msg: string, fields?: LogFields): void;
  /** Whether messages at `level` are written; lets callers skip building costly messages. */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  timestamps: boolean;
  write: (line: string) => void;
  now: () => Date;
}

const COLORS: Partial<Record<LogLevel, string>> = { error: '31', warn: '33', info: '36', debug: '90', trace: '90' };

/** Creates a logger writing one line per message through `opts.write`. */
export function createLogger(opts: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(opts.level);
  const enabled = (level: LogLevel): boolean => LOG_LEVELS.indexOf(level) <= threshold;
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (!enabled(level)) return;
    const defined = Object.entries(fields ?? {}).filter(([, v]) => v !== undefined);
    if (opts.format === 'json') {
      const rec: Record<string, unknown> = { level, msg };
      if (opts.timestamps) rec.time = opts.now().toISOString();
      for (const [k, v] of defined) rec[k] = v;
      opts.write(JSON.stringify(rec) + '\n');
      return;
    }
    const tail = defined
      .map(([k, v]) => ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join('');
    const ts = opts.timestamps ? `${opts.now().toISOString()} ` : '';
    const tag = level.toUpperCase();
    const colored = opts.format === 'color' && COLORS[level] ? `\x1b[${COLORS[level]}m${tag}\x1b[0m` : tag;
    opts.write(`${ts}${colored} ${msg}${tail}\n`);
  };
  return {
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
    trace: (m, f) => emit('trace', m, f),
    enabled,
  };
}

/** A logger that drops everything; for unit tests of code that takes a logger. */
export const silentLogger: Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  trace: () => {},
  enabled: () => false,
};
