/** Platforms (`os/arch[/variant]`) and how an index entry is chosen for one (OCI image-index spec). */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Node's `process.arch` names mapped to OCI/Go `GOARCH` names. */
const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The platform of a Node process (`process.platform`, `process.arch`), in OCI names. */
export function platformOfNode(platform: string, arch: string): Platform {
  return { os: platform === 'win32' ? 'windows' : platform, architecture: NODE_ARCH[arch] ?? arch };
}

/** Parses `os/arch[/variant]`; returns undefined when malformed. */
export function parsePlatform(s: string): Platform | undefined {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Default variants the way containerd normalises them: arm64 means v8, arm means v7. */
function normalVariant(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  if (p.architecture === 'arm') return 'v7';
  return undefined;
}

/** Whether an index entry's platform satisfies the wanted one. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  return (
    wanted.os === candidate.os &&
    wanted.architecture === candidate.architecture &&
    normalVariant(wanted) === normalVariant(candidate)
  );
}
