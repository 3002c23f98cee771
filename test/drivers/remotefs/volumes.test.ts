// Volumes on the share (volumes.ts): create, delete and the connection info compute mounts.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { QCOW2_MAX_SIZE_GIB } from '../../../src/config.js';
import { createRemoteFsDriver } from '../../../src/drivers/remotefs/index.js';
import { dirDigest, qemuImgChain } from '../../support/qemu.js';
import { GiB, it, sids, World } from '../../support/remotefs-world.js';

describe('volumes', () => {
  it('creates a qcow2 file of the volume size, idempotently, and refuses a different size', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [img] = await qemuImgChain(w.file(w.volumeFile));
    expect(img.format).toBe('qcow2');
    expect(img['virtual-size']).toBe(GiB);
    const before = await dirDigest(share);
    await w.create();
    expect(await dirDigest(share)).toEqual(before);
    await expect(w.driver.createVolume({ ...w.vol, size: 2 })).rejects.toThrow(/virtual size 1073741824 bytes, but the volume is 2 GiB/);
  });

  it('holds up to 2 PiB, the largest qcow2 image (the default VOLUME_MAX_SIZE_GB), and fails past it', async ({ share }) => {
    const largest = new World(share);
    await largest.driver.createVolume({ ...largest.vol, size: QCOW2_MAX_SIZE_GIB });
    const [img] = await qemuImgChain(largest.file(largest.volumeFile));
    expect(img['virtual-size']).toBe(QCOW2_MAX_SIZE_GIB * GiB);
    const before = await fs.readdir(share);
    const larger = new World(share);
    await expect(larger.driver.createVolume({ ...larger.vol, size: QCOW2_MAX_SIZE_GIB + 1 })).rejects.toThrow(/The image size is too large for file format 'qcow2'/);
    // Nothing of the failed create is left on the share.
    expect(await fs.readdir(share)).toEqual(before);
  });

  it('initializeConnection returns the NFS connection info naming the active file', async ({ share }) => {
    const driver = createRemoteFsDriver(share, { exportName: 'nfs.example:/srv/cinder' });
    const w = new World(share, { driver });
    await driver.createVolume(w.vol);
    expect(await driver.initializeConnection(w.vol, { host: 'compute-1' })).toEqual({
      driver_volume_type: 'nfs',
      data: { export: 'nfs.example:/srv/cinder', name: w.volumeFile, options: null, format: 'qcow2' },
      mount_point_base: share,
    });
  });

  it('deleteVolume removes the volume, its snapshot files and .info, and nothing else', async ({ share }) => {
    const a = new World(share);
    const b = new World(share);
    await a.create();
    await b.create();
    for (const sid of sids(3)) await a.snapshot('offline', sid);
    await b.snapshot('offline', randomUUID());
    await a.driver.deleteVolume(a.vol);
    expect((await fs.readdir(share)).filter((n) => n.startsWith(a.volumeFile))).toEqual([]);
    await b.verify('other volume untouched');
    await a.driver.deleteVolume(a.vol);
  });

  it('creates the share directory for the first volume only: elsewhere a missing share is unmounted', async ({ share }) => {
    const unmounted = path.join(share, 'not', 'yet');
    const w = new World(unmounted);
    await w.driver.deleteVolume(w.vol);
    await expect(w.driver.initializeConnection(w.vol, {})).rejects.toThrow(/does not exist \(is the share mounted\?\)/);
    await w.create();
    await w.verify();
  });

  it('refuses ids that are not hex and dashes, before touching the share', async ({ share }) => {
    const w = new World(share);
    await expect(w.driver.createVolume({ ...w.vol, id: '../../etc' })).rejects.toThrow(/invalid volume id/);
    await w.create();
    await expect(w.driver.createSnapshot({ ...w.ref('x'), id: '../x' })).rejects.toThrow(/invalid snapshot id/);
    expect(await fs.readdir(share)).toEqual([w.volumeFile]);
  });
});
