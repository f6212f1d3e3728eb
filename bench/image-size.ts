/**
 * The size of a pushed image as the registry stores it: the sum of the manifest's compressed
 * layer sizes plus the config size, read from the bench registry over plain HTTP on 127.0.0.1;
 * and its layer digests (the cache scenarios compare rebuilds with the cold build by them).
 */

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

interface Manifest {
  config?: { size?: number };
  layers?: { size?: number; digest?: string }[];
}

async function manifest(host: string, repo: string, tag: string): Promise<Manifest> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: ACCEPT } });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET manifest ${repo}:${tag}: HTTP ${res.status} ${body.slice(0, 200)}`);
  return JSON.parse(body) as Manifest;
}

/** Bytes of layers + config of `host/repo:tag`. */
export async function imageBytes(host: string, repo: string, tag: string): Promise<number> {
  const m = await manifest(host, repo, tag);
  return (m.config?.size ?? 0) + (m.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
}

/** The compressed layer digests of `host/repo:tag`, bottom first. */
export async function imageLayers(host: string, repo: string, tag: string): Promise<string[]> {
  return ((await manifest(host, repo, tag)).layers ?? []).map((l) => l.digest ?? '');
}
