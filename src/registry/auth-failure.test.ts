import { describe, expect, test } from 'vitest';
import { explainAuthFailure, type AuthFacts } from './auth-failure.js';

const R = 'registry.example:5000';
const CONFIG = '/kaniko/.docker/config.json';
const found = { path: CONFIG, found: true };
const missing = { path: CONFIG, found: false };
const helper = { path: CONFIG, found: true, helper: 'docker-credential-ecr-login', fromHelper: true };
const facts = (f: Partial<AuthFacts>): AuthFacts => ({ registry: R, sent: false, origin: found, by: 'registry', ...f });

describe('explainAuthFailure', () => {
  test.each([
    // No credentials: where Kiln looked, whoever answered 401.
    [401, facts({ origin: found }), `no credentials for ${R} in ${CONFIG}`],
    [401, facts({ origin: missing }), `no credentials for ${R}: ${CONFIG} does not exist`],
    [401, facts({ origin: missing, by: 'token service' }), `no credentials for ${R}: ${CONFIG} does not exist`],
    [
      401,
      facts({ origin: { ...helper, fromHelper: false } }),
      `no credentials for ${R} in ${CONFIG} or from docker-credential-ecr-login`,
    ],
    [401, facts({ origin: undefined }), `no credentials for ${R}`],
    // Credentials sent and refused with 401, by the registry or its token service.
    [401, facts({ sent: true }), `credentials rejected from ${CONFIG}`],
    [401, facts({ sent: true, by: 'token service' }), `credentials rejected from ${CONFIG}`],
    [
      401,
      facts({ sent: true, origin: helper }),
      `credentials rejected from docker-credential-ecr-login (named in ${CONFIG})`,
    ],
    [401, facts({ sent: true, origin: undefined }), 'credentials rejected'],
    // Accepted, but the token lacks the access asked for: a permission, not a password.
    [401, facts({ sent: true, insufficientScope: true }), `credentials from ${CONFIG} not allowed to do this`],
    [401, facts({ insufficientScope: true }), `no credentials for ${R} in ${CONFIG}`],
    // The token service's 403.
    [403, facts({ sent: true, by: 'token service' }), `token service refused the credentials from ${CONFIG}`],
    [
      403,
      facts({ by: 'token service', origin: missing }),
      `token service refused: no credentials for ${R}: ${CONFIG} does not exist`,
    ],
    // The registry's 403: anonymous, or credentials not allowed (the status says it all).
    [403, facts({ origin: missing }), `no credentials for ${R}: ${CONFIG} does not exist`],
    [403, facts({ sent: true }), undefined],
  ] as const)('%i %o: %s', (status, f, reason) => {
    expect(explainAuthFailure(status, f, 'app')?.reason).toBe(reason);
  });

  test('a wrong password and a missing config.json read differently, in reason and hint', () => {
    const wrong = explainAuthFailure(401, facts({ sent: true }), 'app');
    const none = explainAuthFailure(401, facts({ origin: missing }), 'app');
    expect(wrong?.reason).not.toBe(none?.reason);
    expect(wrong?.hint).toMatch(
      /^check the credentials for registry\.example:5000 from \/kaniko\/\.docker\/config\.json: the registry rejected them/,
    );
    expect(none?.hint).toContain('DOCKER_CONFIG');
    expect(none?.hint).toContain(`docker login ${R}`);
  });

  test.each([
    [401, facts({ origin: found })],
    [401, facts({ origin: missing, by: 'token service' })],
    [403, facts({ origin: found })],
    [403, facts({ origin: undefined })],
    [403, facts({ by: 'token service' })],
  ] as const)('no credentials sent (%i %o): no hint blames "the credentials"', (status, f) => {
    const got = explainAuthFailure(status, f, 'app');
    expect(got?.hint).not.toMatch(/the credentials|check the credentials/);
    expect(got?.hint).toMatch(/log in|DOCKER_CONFIG/);
  });

  test('a 403 to credentials sent says they may not do this, naming the repository and where they came from', () => {
    expect(explainAuthFailure(403, facts({ sent: true }), 'team/app')?.hint).toBe(
      `the credentials for ${R} from ${CONFIG} are not allowed to do this on team/app`,
    );
    expect(explainAuthFailure(403, facts({ sent: true, by: 'token service' }), 'team/app')?.hint).toBe(
      `the token service of ${R} does not give the credentials from ${CONFIG} this access on team/app`,
    );
  });

  test('other statuses are not authentication failures', () => {
    expect(explainAuthFailure(404, facts({}), 'app')).toBeUndefined();
    expect(explainAuthFailure(429, facts({ sent: true }), 'app')).toBeUndefined();
  });
});
