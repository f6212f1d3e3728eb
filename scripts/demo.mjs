// The offline demo: builds fixtures/demo (FROM scratch, no registry) into an OCI layout and a
// docker-archive tarball under out/, and prints the image digest.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'out');
rmSync(join(out, 'demo-oci'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const args = [
  join(repo, 'bin', 'executor'),
  '--context',
  `dir://${join(repo, 'fixtures', 'demo')}`,
  '--dockerfile',
  'Dockerfile',
  '--destination',
  'kiln.example/demo:latest',
  '--no-push',
  '--oci-layout-path',
  join(out, 'demo-oci'),
  '--tar-path',
  join(out, 'demo.tar'),
  '--digest-file',
  join(out, 'demo.digest'),
];
const r = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  env: { ...process.env, SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH ?? '0' },
});
if (r.status === 0) {
  console.log(
    `demo image written to ${join(out, 'demo-oci')} (OCI layout, tag latest) and ${join(out, 'demo.tar')} (docker-archive)`,
  );
}
process.exit(r.status ?? 1);
