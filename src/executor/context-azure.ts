/**
 * `https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB` (issue 14): a blob in Azure Blob Storage,
 * signed with AZURE_STORAGE_ACCESS_KEY (Shared Key), or reached through
 * AZURE_STORAGE_CONNECTION_STRING's endpoint and key (registry/bucket/azure-blob.ts), unpacked
 * into the context directory as it downloads.
 */
import { openAzureBlob } from '../registry/bucket/azure-blob.js';
import type { BuildEnv } from './build-env.js';
import { fetchObjectContext } from './context-object.js';
import type { RemoteSpec } from './remote-context.js';

/** The fetcher of Azure blob contexts (remote-context.ts loads it when a build uses one). */
export async function fetchAzureContext(spec: RemoteSpec, into: string, env: BuildEnv, display: string): Promise<void> {
  if (spec.kind !== 'azure') throw new Error(`internal: the Azure fetcher got a ${spec.kind} context`);
  await fetchObjectContext((o) => openAzureBlob(spec, o.inputs, o.get), into, env, display);
}
