import { expect, test } from 'vitest';
import { MediaType } from '../oci/media-types.js';
import { manifestMediaType } from './manifests.js';

const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }));
const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }));
const withType = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: {}, layers: [] }),
);

test.each([
  ['a manifest Content-Type wins', `${MediaType.ociManifest}; charset=utf-8`, withType, MediaType.ociManifest],
  ['generic header: the document mediaType', 'application/json', withType, MediaType.dockerManifest],
  ['no mediaType (umoci): an index by shape', 'application/octet-stream', index, MediaType.ociIndex],
  ['no mediaType (umoci): a manifest by shape', undefined, manifest, MediaType.ociManifest],
  ['not JSON: the header', 'text/plain', Buffer.from('nope'), 'text/plain'],
])('%s', (_name, header, bytes, expected) => {
  expect(manifestMediaType(header, bytes)).toBe(expected);
});
