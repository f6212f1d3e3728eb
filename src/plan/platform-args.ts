/**
 * The automatic platform ARGs of the Dockerfile reference ("Automatic platform ARGs in the
 * global scope"): TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and their BUILD*
 * counterparts. They are in the global scope (usable in FROM) and a stage sees one after
 * declaring `ARG NAME` without a value.
 */
import { formatPlatform, type Platform } from '../oci/platform.js';

export function platformArgs(target: Platform, build: Platform): Map<string, string> {
  const of = (prefix: string, p: Platform): [string, string][] => [
    [`${prefix}PLATFORM`, formatPlatform(p)],
    [`${prefix}OS`, p.os],
    [`${prefix}ARCH`, p.architecture],
    [`${prefix}VARIANT`, p.variant ?? ''],
  ];
  return new Map([...of('TARGET', target), ...of('BUILD', build)]);
}

/** Docker's predefined proxy ARGs: usable in RUN without an ARG line, and kept out of history. */
export const PROXY_ARGS = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];
