/**
 * Fakes for the unit tests of the built-in credential helpers (src/registry/cloud/): a file
 * reader over a map, a CloudFetch answering from a route and recording requests, and a helper
 * to catch the RegistryError a call must fail with.
 */
import { expect } from 'vitest';
import { RegistryError } from '../../src/errors.js';
import { BuiltinHelpers, type BuiltinHelperOptions } from '../../src/registry/cloud/builtin-helpers.js';
import type { CloudFetch, CloudRequest } from '../../src/registry/cloud/http.js';

/** A readFile over `content`; ENOENT for any other path. */
export const files =
  (content: Record<string, string>) =>
  async (p: string): Promise<string> => {
    const c = content[p];
    if (c === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return c;
  };

/** A fetch answering from `route`, recording each request. */
export function fakeFetch(
  route: (req: CloudRequest) => { status: number; body: unknown },
): CloudFetch & { calls: CloudRequest[] } {
  const calls: CloudRequest[] = [];
  const f = async (req: CloudRequest) => {
    calls.push(req);
    const r = route(req);
    return { status: r.status, text: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) };
  };
  return Object.assign(f, { calls });
}

/** Built-in helpers with an empty environment, home /h and no files unless overridden. */
export const helpers = (o: Partial<BuiltinHelperOptions>) =>
  new BuiltinHelpers({ env: {}, homeDir: '/h', readFile: files({}), ...o });

/** The RegistryError `p` rejects with. */
export async function failure(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}
