/**
 * Issue 6 acceptance: what a build's RUNs saw is what `umoci unpack` finds in the pushed image —
 * paths, types, modes, owners, link targets, contents, hardlinks and file capabilities — with
 * whiteouts and opaque markers exactly where the changes call for them; and a base whose
 * layers carry whiteouts and opaque directories extracts the way `umoci unpack` does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runExecutor, tempDir } from '../support/executor.js';
import { inspectForTest } from '../support/inspect.js';
import { pushRichBase } from '../support/layers-base.js';
import { layoutLayer as layerListing, LISTING_RUN, listHost, parseListing } from '../support/layers-listing.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

let reg: TestRegistry;
let base: string;
beforeAll(async () => {
  reg = await startRegistry();
  base = await pushRichBase(reg);
});
afterAll(async () => {
  await reg.stop();
});

async function build(lines: string[], extra: string[] = []): Promise<{ stdout: string; layout: string; dest: string }> {
  const ctx = await tempDir('roundtrip-ctx');
  await writeFile(join(ctx, 'Dockerfile'), ['ARG BASE', 'FROM ${BASE}', ...lines, ''].join('\n'));
  const out = await tempDir('roundtrip-out');
  const dest = `${reg.host}/e2e/roundtrip:${Date.now()}`;
  const r = await runExecutor([
    '--context',
    ctx,
    '--destination',
    dest,
    '--oci-layout-path',
    join(out, 'layout'),
    '--insecure',
    '--insecure-pull',
    '--build-arg',
    `BASE=${base}`,
    ...extra,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  return { stdout: r.stdout, layout: join(out, 'layout'), dest };
}

test('a base with whiteouts and opaque directories extracts the way umoci unpack does', async () => {
  const { stdout } = await build([`RUN ${LISTING_RUN}`]);
  const seen = parseListing(stdout);
  const umoci = await listHost((await inspectForTest({ registry: base })).rootfsDir);
  expect(seen.entries).toEqual(umoci.entries);
  expect(seen.hashes).toEqual(umoci.hashes);
  expect(seen.caps).toEqual(umoci.caps);
  expect(seen.linkGroups).toEqual(umoci.linkGroups);
  // What the base's top layer says, seen by both.
  const paths = seen.entries.map((e) => e.split(' ')[0]);
  expect(paths).not.toContain('/opt/gone');
  expect(paths.filter((p) => p?.startsWith('/opt/opq/'))).toEqual(['/opt/opq/c']);
  expect(seen.entries.find((e) => e.startsWith('/opt/replace '))).toMatch(/regular file/);
  expect(paths).not.toContain('/bin/vi');
  expect(seen.caps).toContain('/opt/capped cap_net_raw=ep');
  expect(seen.linkGroups).toContain('/opt/h1 = /opt/h2');
});

test('RUN churn → pushed image → umoci unpack equals what the RUNs saw, with whiteouts exactly where expected', async () => {
  const { stdout, layout, dest } = await build([
    'RUN mkdir /churn && cd /churn && for d in $(seq 0 49); do mkdir d$d; done && i=0 && while [ $i -lt 5000 ]; do echo "file $i" > d$((i % 50))/f$i; i=$((i + 1)); done',
    'RUN cd /churn && i=0 && while [ $i -lt 5000 ]; do rm d$((i % 50))/f$i; i=$((i + 5)); done',
    'RUN rm -rf /churn/d49 && echo "now a file" > /churn/d49 && rm -rf /churn/d48 && mkdir /churn/d48 && echo fresh > /churn/d48/new',
    'RUN chmod 600 /churn/d1/f1 && chown 1000:1000 /churn/d2/f2 && chmod 700 /churn/d3',
    'RUN echo pair > /churn/h1 && ln /churn/h1 /churn/h2 && mkdir -p /usr/local/bin && cp /bin/busybox /usr/local/bin/suid && chmod 4755 /usr/local/bin/suid',
    'RUN cp /opt/plain /usr/local/bin/capped && setcap cap_net_raw+ep /usr/local/bin/capped && setcap cap_net_admin+ep /opt/capped2',
    `RUN ${LISTING_RUN}`,
  ]);
  const seen = parseListing(stdout);
  const image = await inspectForTest({ registry: dest });
  const umoci = await listHost(image.rootfsDir);
  expect(seen.entries.length).toBeGreaterThan(4000);
  expect(seen.entries).toEqual(umoci.entries);
  expect(seen.hashes).toEqual(umoci.hashes);
  expect(seen.caps).toEqual(umoci.caps);
  expect(seen.linkGroups).toEqual(umoci.linkGroups);
  expect(seen.caps).toEqual(
    expect.arrayContaining([
      '/usr/local/bin/capped cap_net_raw=ep',
      '/opt/capped2 cap_net_admin=ep',
      '/opt/capped cap_net_raw=ep',
    ]),
  );
  expect(seen.linkGroups).toContain('/churn/h1 = /churn/h2');
  expect(seen.entries).toContain(
    `/usr/local/bin/suid regular file 4755 0:0 ${(await readFile('/bin/busybox')).length} 1 `,
  );

  // Base layers kept as they were: 3, then one per RUN that changed something (the listing changes nothing).
  expect(image.layers).toHaveLength(3 + 6);
  const deletes = await layerListing(layout, 4);
  const whiteouts = deletes.names.filter((n) => n.includes('.wh.'));
  expect(whiteouts).toHaveLength(1000);
  expect(whiteouts.every((n) => /^churn\/d\d+\/\.wh\.f\d*[05]$/.test(n))).toBe(true);
  expect(deletes.names.filter((n) => !n.includes('.wh.')).every((n) => /^churn\/(d\d+\/)?$/.test(n))).toBe(true);
  // A directory replaced by a file: just the file. A directory made anew: opaque.
  expect((await layerListing(layout, 5)).names).toEqual([
    'churn/',
    'churn/d48/',
    'churn/d48/.wh..wh..opq',
    'churn/d48/new',
    'churn/d49',
  ]);
  // chmod only and chown only: just those entries (and their parents).
  const meta = await layerListing(layout, 6);
  expect(meta.names).toEqual(['churn/', 'churn/d1/', 'churn/d1/f1', 'churn/d2/', 'churn/d2/f2', 'churn/d3/']);
  expect(meta.verbose.find((l) => l.endsWith(' churn/d1/f1'))).toMatch(/^-rw------- 0\/0 /);
  expect(meta.verbose.find((l) => l.endsWith(' churn/d2/f2'))).toMatch(/^-rw-r--r-- 1000\/1000 /);
  // The hardlink pair: one file and a link with a relative name; the setuid bit kept.
  const links = await layerListing(layout, 7);
  expect(links.verbose.find((l) => l.includes('churn/h2'))).toMatch(
    /^hrw-r--r-- 0\/0 +0 .* churn\/h2 link to churn\/h1$/,
  );
  expect(links.verbose.find((l) => l.endsWith(' usr/local/bin/suid'))).toMatch(/^-rwsr-xr-x 0\/0 /);
  // The capabilities travel as pax records, as Docker writes them.
  const caps = await layerListing(layout, 8);
  expect(caps.names).toEqual(['opt/', 'opt/capped2', 'usr/', 'usr/local/', 'usr/local/bin/', 'usr/local/bin/capped']);
  expect(caps.raw.toString('latin1').match(/SCHILY\.xattr\.security\.capability=/g)).toHaveLength(2);
});
