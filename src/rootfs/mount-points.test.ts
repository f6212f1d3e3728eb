import { expect, test } from 'vitest';
import { prepareMountPoints } from './mount-points.js';
import { Rootfs } from './rootfs.js';

test('in place (the rootfs is /) nothing is mounted: /dev, /proc, /sys, resolv.conf and hosts are the real ones', async () => {
  const prepared = await prepareMountPoints(new Rootfs('/'));
  expect(prepared.plan).toEqual({ dev: false, proc: false, sys: false, resolvConf: false, hosts: false });
  await prepared.cleanup();
});
