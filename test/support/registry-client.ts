/**
 * The registry client as the integration tests build it: anonymous, plain HTTP allowed, TLS
 * verified, retries without waiting, silent unless given a logger; and a logger that keeps its
 * lines for assertions.
 */
import { createLogger, silentLogger, type LogFormat, type Logger, type LogLevel } from '../../src/log.js';
import { RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';

/** A RegistryClient with the harness defaults, overridden by `opts`. The caller closes it. */
export function testRegistryClient(opts: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    logger: silentLogger,
    userAgent: 'kiln/test',
    insecure: () => true,
    skipTlsVerify: () => false,
    credentials: { get: async () => undefined },
    sleep: async () => {},
    ...opts,
  });
}

/** A logger appending its lines to `lines`, with the clock at the epoch. */
export function linesLogger(lines: string[], level: LogLevel = 'debug', format: LogFormat = 'text'): Logger {
  return createLogger({ level, format, timestamps: false, write: (l) => lines.push(l), now: () => new Date(0) });
}
