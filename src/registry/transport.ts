/**
 * The connection layer: one undici Agent (connection pool) per client, with TLS settings chosen
 * per registry at connect time (verified unless --skip-tls-verify, extra CA and client
 * certificate from --registry-certificate / --registry-client-cert), and the rules for which
 * host and scheme a registry is spoken to on. Every host is verified against Node's roots plus
 * the build's extra CAs (SSL_CERT_DIR, NODE_EXTRA_CA_CERTS: trust.ts), as Go's system pool is.
 */
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { DEFAULT_TIMEOUTS } from './network-error.js';
import type { NetworkTimeouts, RegistryTlsOptions } from './types.js';
import { withRoots } from './trust.js';

/** Docker Hub's API endpoint: `docker.io` names images, `registry-1.docker.io` serves them (as Docker does). */
export const DOCKER_HUB_API = 'registry-1.docker.io';

/** The host[:port] that serves a registry's `/v2/` API. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? DOCKER_HUB_API : registry;
}

function hostOnly(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 && registry.indexOf(':') === colon ? registry.slice(0, colon) : registry;
}

function isPrivateIPv4(host: string): boolean {
  if (isIP(host) !== 4) return false;
  const [a = 0, b = 0] = host.split('.').map(Number);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * Whether plain HTTP may be tried after HTTPS fails. Explicitly insecure registries may, and so
 * (like go-containerregistry's `Registry.Scheme`, which Kaniko uses) may `localhost`,
 * `*.localhost`, loopback and RFC 1918 addresses; HTTPS is always tried first.
 */
export function mayUsePlainHttp(registry: string, insecure: (registry: string) => boolean): boolean {
  if (insecure(registry)) return true;
  const host = hostOnly(registry).toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || isPrivateIPv4(host);
}

/** `host:port` with the scheme's default port filled in, brackets removed from IPv6. */
export function hostKey(hostname: string, port: string, protocol: string): string {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const p = port !== '' ? port : protocol === 'http:' ? '80' : '443';
  return `${h}:${p}`;
}

/** The {@link hostKey} of a URL. */
export function urlHostKey(u: URL): string {
  return hostKey(u.hostname, u.port, u.protocol);
}

/** TLS choices for one registry. */
export interface TlsPolicy {
  skipVerify: (registry: string) => boolean;
  extra?: (registry: string) => RegistryTlsOptions | undefined;
  /** CA certificates (PEM) trusted for every host besides Node's roots (registry/trust.ts). */
  trusted?: readonly string[];
}

/**
 * The TLS context for the given extra CAs and client certificate, or undefined for Node's default
 * (its roots). Node's `ca` replaces the roots; Kaniko's CAs add to them, so the roots come first.
 * Made once per connector: a `ca` list given to each connect would be parsed for each connection.
 */
function secureContext(trusted: readonly string[], extra?: RegistryTlsOptions): SecureContext | undefined {
  const ca = withRoots([...trusted, ...(extra?.ca !== undefined ? [extra.ca] : [])]);
  if (ca === undefined && extra?.cert === undefined && extra?.key === undefined) return undefined;
  return createSecureContext({
    ...(ca !== undefined ? { ca } : {}),
    ...(extra?.cert !== undefined ? { cert: extra.cert } : {}),
    ...(extra?.key !== undefined ? { key: extra.key } : {}),
  });
}

type Connector = ReturnType<typeof buildConnector>;

/**
 * Owns the Agent. Connections to a host use the TLS settings of the registry the host was
 * {@link Transport.bind bound} to (its API host, a redirect target reached from it); any other
 * host (a token realm, blob storage) is verified against the system CAs.
 */
export class Transport {
  readonly agent: Agent;
  private readonly registryOfHost = new Map<string, string>();
  private readonly connectors = new Map<string, Connector>();
  private verifiedConnector: Connector | undefined;

  constructor(
    private readonly tls: TlsPolicy,
    readonly timeouts: NetworkTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.agent = new Agent({
      // The connect timeout goes to each connector: undici ignores `connectTimeout` beside a connect function.
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      connect: (opts, cb) => {
        const registry = this.registryOfHost.get(hostKey(opts.hostname, opts.port, opts.protocol));
        const connector = registry === undefined ? this.verified : this.connectorFor(registry);
        connector(opts, cb);
      },
    });
  }

  /**
   * The connector of every host not bound to a registry: verified, explicitly, so that
   * NODE_TLS_REJECT_UNAUTHORIZED (a hidden input) cannot turn verification off. Made on the first
   * connection: its TLS context parses every trusted CA, which a build that never connects (FROM
   * scratch, a plain-http registry) should not pay for.
   */
  private get verified(): Connector {
    if (this.verifiedConnector === undefined) {
      const context = secureContext(this.tls.trusted ?? []);
      this.verifiedConnector = buildConnector({
        rejectUnauthorized: true,
        timeout: this.timeouts.connectMs,
        ...(context !== undefined ? { secureContext: context } : {}),
      });
    }
    return this.verifiedConnector;
  }

  /** Connections to `url`'s host use `registry`'s TLS settings, unless the host is already bound. */
  bind(url: URL, registry: string): void {
    const key = urlHostKey(url);
    if (!this.registryOfHost.has(key)) this.registryOfHost.set(key, registry);
  }

  private connectorFor(registry: string): Connector {
    let c = this.connectors.get(registry);
    if (c === undefined) {
      const context = secureContext(this.tls.trusted ?? [], this.tls.extra?.(registry));
      c = buildConnector({
        rejectUnauthorized: !this.tls.skipVerify(registry),
        timeout: this.timeouts.connectMs,
        ...(context !== undefined ? { secureContext: context } : {}),
      });
      this.connectors.set(registry, c);
    }
    return c;
  }

  /** Closes every pooled connection; in-flight requests finish first. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
