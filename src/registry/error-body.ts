/**
 * Registry error responses: the OCI distribution spec's error body (spec.md "Error Codes":
 * `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…","detail":…}]}`) and the shapes token
 * servers use (`{"details":"incorrect username or password"}` on Docker Hub, OAuth2's
 * `{"error":"…","error_description":"…"}`), turned into the words of a Kiln error message.
 */
import { z } from 'zod';

/** One error of a registry response: `code` is empty when the body had none. */
export interface RegistryErrorEntry {
  code: string;
  message: string;
}

const ociErrors = z.object({
  errors: z.array(z.looseObject({ code: z.string().optional(), message: z.string().optional() })),
});
const tokenError = z.looseObject({
  details: z.string().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
  message: z.string().optional(),
});

const MAX_MESSAGE = 200;

/** Registry-supplied text goes into our messages: one line, printable, bounded. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat;
}

/** Parses an error body; anything that is not one of the known JSON shapes yields no entries. */
export function parseErrorBody(text: string): RegistryErrorEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  const oci = ociErrors.safeParse(json);
  if (oci.success) {
    return oci.data.errors.map((e) => ({ code: clean(e.code ?? ''), message: clean(e.message ?? '') }));
  }
  const tok = tokenError.safeParse(json);
  if (tok.success) {
    const message = tok.data.details ?? tok.data.error_description ?? tok.data.message ?? tok.data.error;
    if (message !== undefined) return [{ code: '', message: clean(message) }];
  }
  return [];
}

/** What kind of object a request was about, to say "manifest unknown" on a bare 404. */
export type Subject = 'manifest' | 'blob' | 'upload' | 'token' | 'other';

const NOT_FOUND_BY_CODE: Record<string, string> = {
  MANIFEST_UNKNOWN: 'manifest unknown',
  NAME_UNKNOWN: 'repository unknown',
  BLOB_UNKNOWN: 'blob unknown',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown',
};

function statusWord(status: number, codes: string[], subject: Subject): string {
  switch (status) {
    case 400:
      return 'bad request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'denied';
    case 404: {
      const known = codes.map((c) => NOT_FOUND_BY_CODE[c]).find((w) => w !== undefined);
      const what =
        known ?? (subject === 'manifest' ? 'manifest unknown' : subject === 'blob' ? 'blob unknown' : undefined);
      return what ? `not found: ${what}` : 'not found';
    }
    case 405:
      return 'operation not supported by the registry';
    case 409:
      return 'conflict';
    case 413:
      return 'request too large';
    case 429:
      return 'too many requests';
    default:
      if (status >= 500) return 'registry server error';
      return 'unexpected response';
  }
}

/**
 * The "why" of a failed request: a word for the status, then the status and the registry's own
 * codes and messages in parentheses, e.g. `unauthorized (401 UNAUTHORIZED: authentication required)`
 * or `not found: manifest unknown (404 MANIFEST_UNKNOWN)`. A message that only repeats its code is dropped.
 */
export function describeFailure(status: number, entries: RegistryErrorEntry[], subject: Subject): string {
  const codes = entries.map((e) => e.code).filter((c) => c !== '');
  const word = statusWord(status, codes, subject);
  if (entries.length === 0) return `${word} (HTTP ${status})`;
  const parts = entries.map((e) => {
    const redundant = e.message === '' || e.message.toLowerCase() === e.code.toLowerCase().replace(/_/g, ' ');
    if (e.code === '') return e.message;
    return redundant ? e.code : `${e.code}: ${e.message}`;
  });
  return `${word} (${status} ${parts.join('; ')})`;
}
