/**
 * A DNS server on loopback for tests of what a RUN step resolves: Debian's `dnsmasq` (package
 * dnsmasq-base) in the foreground on 127.0.0.2:53, answering only the names it is given and
 * nothing else (no upstream, no /etc/hosts), so a test never reaches beyond loopback
 * (ARCHITECTURE.md §10). Port 53, because a resolv.conf `nameserver` line has no port.
 */
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The address dnsmasq listens on: what `--dns` and a `nameserver` line name. Not 127.0.0.1: a
 * resolver with no resolv.conf at all (busybox's nslookup, glibc) falls back to 127.0.0.1, so a
 * server there would answer a RUN that never saw the pod's resolv.conf. All of 127/8 is loopback.
 */
export const DNS_ADDRESS = '127.0.0.2';

/** A running dnsmasq; `stop` ends it and removes its files. */
export interface TestDns {
  address: typeof DNS_ADDRESS;
  /** The names it serves and their IPv4 addresses. */
  records: Readonly<Record<string, string>>;
  /** Its log so far (queries included), for a failing test's message. */
  log(): string;
  stop(): Promise<void>;
}

/** The outcome of {@link startDnsmasq}: the server, or why it cannot run here (a test skips). */
export type DnsStart = { dns: TestDns; skip?: undefined } | { dns?: undefined; skip: string };

/**
 * Starts dnsmasq serving `records` (name → IPv4) and resolves once it answers the first name.
 * Each name is also `--local`, so a query of another type (busybox's nslookup asks AAAA too) gets
 * an empty answer instead of REFUSED, which would make nslookup fail. When port 53 is taken (or
 * dnsmasq is missing) the result is `skip` with dnsmasq's own words.
 */
export async function startDnsmasq(records: Record<string, string>): Promise<DnsStart> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-dnsmasq-'));
  const args = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--log-queries',
    '--log-facility=-',
    `--listen-address=${DNS_ADDRESS}`,
    '--bind-interfaces',
    '--port=53',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
    ...Object.entries(records).flatMap(([name, ip]) => [`--address=/${name}/${ip}`, `--local=/${name}/`]),
  ];
  const child = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  // dnsmasq logs "started" once its sockets are bound, so the first query after it is answered.
  let onStarted: () => void = () => undefined;
  const started = new Promise<true>((resolve) => (onStarted = () => resolve(true)));
  const collect = (b: Buffer): void => {
    log += b.toString();
    if (log.includes('started, version')) onStarted();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(`dnsmasq exited (${String(code ?? signal)})`));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const [name, ip] = Object.entries(records)[0] ?? [];
  if (name === undefined) throw new Error('startDnsmasq: give at least one record');
  const failed = exited.then((why) => `${why}: ${log.trim()}`);
  let ready = await Promise.race([started, failed]);
  if (ready === true) ready = await answers(name, ip);
  if (ready !== true) {
    await stop();
    return { skip: `no DNS server on ${DNS_ADDRESS}:53 for the test: ${ready}` };
  }
  return { dns: { address: DNS_ADDRESS, records, log: () => log, stop } };
}

/** True when {@link DNS_ADDRESS}:53 answers `name` with `ip`, else what it did. */
async function answers(name: string, ip: string | undefined): Promise<true | string> {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([DNS_ADDRESS]);
  try {
    const got = await resolver.resolve4(name);
    return got.includes(ip ?? '') || `${name} resolved to ${got.join(', ')}`;
  } catch (err) {
    return `${name} did not resolve: ${(err as Error).message}`;
  }
}
