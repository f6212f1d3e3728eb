/**
 * Why a registry or its token service refused a request (401, 403), in words that tell apart what
 * a user fixes differently: no credentials were found (and where Kiln looked), the credentials
 * sent were rejected, or the token service refused. Docker and Kaniko say "unauthorized" for all
 * of them, and a wrong password then looks like a missing config.json.
 *
 * - 401, no credentials sent (registry or token service): `no credentials for REGISTRY in PATH`;
 * - 401 to credentials sent: `credentials rejected from PATH` — or, when the registry says
 *   `insufficient_scope` (the token was issued without the access asked for),
 *   `credentials from PATH not allowed to do this`;
 * - 403 of the token service: `token service refused …`;
 * - 403 of the registry: `no credentials for REGISTRY in PATH` when none were sent; else nothing
 *   after the status, and the hint says what the credentials may not do.
 *
 * PATH is the config.json read, or "PATH does not exist" when there was none. No hint blames
 * "the credentials" when none were sent.
 */
import type { CredentialOrigin } from './types.js';

/** What is known about the credentials of a refused request. */
export interface AuthFacts {
  /** The registry the credentials are for (`host[:port]`). */
  registry: string;
  /** Whether the request carried them: Basic, a token fetched with them, or a registry token. */
  sent: boolean;
  /** Where they were looked for; undefined when the provider does not say. */
  origin: CredentialOrigin | undefined;
  /** Who refused: the registry itself, or the token service its Bearer challenge named. */
  by: 'registry' | 'token service';
  /** The registry said `insufficient_scope`: the token was issued without the access asked for. */
  insufficientScope?: boolean;
}

/** The words for a refusal: a reason appended to the message's first line, and a hint. */
export interface AuthExplanation {
  reason: string | undefined;
  hint: string;
}

function noCredentials(f: AuthFacts): string {
  const o = f.origin;
  if (o === undefined) return `no credentials for ${f.registry}`;
  if (!o.found) return `no credentials for ${f.registry}: ${o.path} does not exist`;
  return `no credentials for ${f.registry} in ${o.path}${o.helper !== undefined ? ` or from ${o.helper}` : ''}`;
}

/** ` from PATH`, or ` from HELPER (named in PATH)`: where the credentials sent came from. */
function source(o: CredentialOrigin | undefined): string {
  if (o === undefined) return '';
  return o.fromHelper === true && o.helper !== undefined ? ` from ${o.helper} (named in ${o.path})` : ` from ${o.path}`;
}

function howToLogIn(f: AuthFacts): string {
  const o = f.origin;
  if (o !== undefined && !o.found) {
    return (
      `Kiln reads $DOCKER_CONFIG/config.json, else ~/.docker/config.json: write an "auths" entry for ` +
      `${f.registry} there (docker login ${f.registry}), or point DOCKER_CONFIG at the directory that holds one`
    );
  }
  const where = o === undefined ? '$DOCKER_CONFIG/config.json' : o.path;
  return `log in to ${f.registry}: add an "auths" entry for it to ${where} (docker login ${f.registry}), or name a credential helper in credHelpers or credsStore`;
}

/** The reason and hint for a 401 or 403 answered as `f` says; undefined for any other status. */
export function explainAuthFailure(status: number, f: AuthFacts, repository?: string): AuthExplanation | undefined {
  if (status !== 401 && status !== 403) return undefined;
  const on = repository !== undefined ? ` on ${repository}` : '';
  if (status === 403 && f.by === 'token service') {
    return f.sent
      ? {
          reason: `token service refused the credentials${source(f.origin)}`,
          hint: `the token service of ${f.registry} does not give the credentials${source(f.origin)} this access${on}`,
        }
      : {
          reason: `token service refused: ${noCredentials(f)}`,
          hint: `the token service of ${f.registry} refuses anonymous access${on}; ${howToLogIn(f)}`,
        };
  }
  if (!f.sent) {
    const anonymous = status === 403 ? `the registry refuses anonymous access${on}; ` : '';
    return { reason: noCredentials(f), hint: anonymous + howToLogIn(f) };
  }
  if (status === 401 && f.insufficientScope === true) {
    // Accepted by the token service, which left out what was asked: a permission, not a password.
    return {
      reason: `credentials${source(f.origin)} not allowed to do this`,
      hint: `the token service of ${f.registry} accepted the credentials${source(f.origin)} but did not grant this access${on}`,
    };
  }
  if (status === 401) {
    const who = f.by === 'registry' ? 'the registry' : 'its token service';
    return {
      reason: `credentials rejected${source(f.origin)}`,
      hint: `check the credentials for ${f.registry}${source(f.origin)}: ${who} rejected them (a wrong or expired username, password or token)`,
    };
  }
  return {
    reason: undefined,
    hint: `the credentials for ${f.registry}${source(f.origin)} are not allowed to do this${on}`,
  };
}
