/**
 * `s3://BUCKET/KEY` (issue 14): an object in S3 or an S3-compatible store, through the AWS SDK
 * with its default credential chain, AWS_REGION, and Kaniko's S3_ENDPOINT and S3_FORCE_PATH_STYLE
 * (registry/bucket/s3.ts), unpacked into the context directory as it downloads.
 */
import { s3ObjectOpener } from '../registry/bucket/s3.js';
import { fetchObjectContext } from './context-object.js';
import type { ContextFetcher } from './remote-context.js';

/** The fetcher of `s3://` contexts (remote-context.ts loads it when a build uses one). */
export const fetchS3Context: ContextFetcher = async (spec, into, env, display, onEntry) => {
  if (spec.kind !== 's3') throw new Error(`internal: the S3 fetcher got a ${spec.kind} context`);
  const open = s3ObjectOpener(spec.bucket, spec.key);
  await fetchObjectContext((o) => open(o.inputs, o.get), into, env, display, onEntry);
};
