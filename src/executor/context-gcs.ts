/**
 * `gs://BUCKET/OBJECT` and Kaniko's `--bucket` (issue 14): an object in Google Cloud Storage, with
 * the application default credentials, or at STORAGE_EMULATOR_HOST (registry/bucket/gcs.ts),
 * unpacked into the context directory as it downloads.
 */
import { openGcsObject } from '../registry/bucket/gcs.js';
import { fetchObjectContext } from './context-object.js';
import type { ContextFetcher } from './remote-context.js';

/** The fetcher of `gs://` contexts (remote-context.ts loads it when a build uses one). */
export const fetchGcsContext: ContextFetcher = async (spec, into, env, display, onEntry) => {
  if (spec.kind !== 'gs') throw new Error(`internal: the GCS fetcher got a ${spec.kind} context`);
  await fetchObjectContext(
    (o) => openGcsObject(spec.bucket, spec.object, o.inputs, o.get),
    into,
    env,
    display,
    onEntry,
  );
};
