/**
 * The built-in `gcr` and `gcloud` helpers: an OAuth2 access token from Google's application
 * default credentials (google-auth.ts, the path `gs://` contexts take too), sent as the password
 * of `oauth2accesstoken` (what GCR and Artifact Registry accept), with the cloud-platform scope
 * docker-credential-gcr asks for. `gcloud` (docker-credential-gcloud runs `gcloud auth
 * print-access-token`) is served the same way: Kaniko's image has no gcloud SDK, and in a build
 * pod the account gcloud would use is the same application default one.
 *
 * Only Google's registry hosts (gcr.io, *.gcr.io, *.pkg.dev) get a token through `credsStore`,
 * which applies to every registry; any other host only when `credHelpers` names it for this
 * helper, so a Google token never goes to Docker Hub by accident.
 */
import type { Issued } from './context.js';
import { googleAccessToken, type GoogleAuthInputs } from './google-auth.js';

/** Whether a host is Google's (Container Registry or Artifact Registry). */
export function isGoogleRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').toLowerCase();
  return host === 'gcr.io' || host.endsWith('.gcr.io') || host.endsWith('.pkg.dev');
}

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** The registry credential of the application default credentials. */
export async function googleCredential(inputs: Omit<GoogleAuthInputs, 'scope'>): Promise<Issued> {
  const t = await googleAccessToken({ ...inputs, scope: SCOPE });
  return {
    credential: { username: 'oauth2accesstoken', password: t.token },
    ...(t.expires !== undefined ? { expires: t.expires } : {}),
  };
}
