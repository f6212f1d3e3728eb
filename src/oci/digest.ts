import { createHash } from 'node:crypto';

/** A content digest, `algorithm:hex` (OCI image spec, descriptor.md "Digests"). Only sha256 is produced. */
export type Digest = `sha256:${string}`;

const SHA256 = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return SHA256.test(s);
}

/** Parses a digest string, returning undefined for anything but a well-formed sha256 digest. */
export function parseDigest(s: string): Digest | undefined {
  return isDigest(s) ? s : undefined;
}

/** The hex part of a digest, used as the file name in blob stores and OCI layouts. */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** sha256 of bytes held in memory: manifests and configs only, never layers. */
export function sha256Of(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
