/**
 * `https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB` (issue 14): a blob in Azure Blob Storage,
 * read with `@azure/storage-blob` (registry/bucket/azure-blob.ts: AZURE_STORAGE_ACCESS_KEY,
 * AZURE_STORAGE_CONNECTION_STRING, a SAS, else an `@azure/identity` token), unpacked into the
 * context directory as it downloads. Loaded only by remote-context.ts's `import()`: the SDKs stay
 * out of every build that names no Azure blob.
 */
import { openAzureBlob } from '../registry/bucket/azure-blob.js';
import { fetchObjectContext } from './context-object.js';
import type { ContextFetcher } from './remote-context.js';

/** The fetcher of Azure blob contexts (remote-context.ts loads it when a build uses one). */
export const fetchAzureContext: ContextFetcher = async (spec, into, env, display, onEntry) => {
  if (spec.kind !== 'azure') throw new Error(`internal: the Azure fetcher got a ${spec.kind} context`);
  await fetchObjectContext((o) => openAzureBlob(spec, o.inputs, o.get), into, env, display, onEntry);
};
