// A volume from a snapshot or from another volume, and extend (copies.ts), on real qcow2 chains:
// the data is checked with qemu-io through the new file alone, never through the driver.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { describe, expect } from 'vitest';
import type { VolumeRef } from '../../../src/drivers/driver.js';
import { qemuImgChain, qemuIoMismatches, qemuIoWrite } from '../../support/qemu.js';
import { GiB, it, LEN, sids, World } from '../../support/remotefs-world.js';

/** Where World writes slot 1 (remotefs-world.ts). */
const SLOT = 64 * 1024;

const newVolume = (size: number): VolumeRef => ({ id: randomUUID(), size, status: 'creating', attachStatus: 'detached', providerLocation: null });

describe.concurrent('volumes from a snapshot', () => {
  it("hold the snapshot's data (not later writes), in one standalone qcow2", async ({ share }) => {
    const w = new World(share);
    await w.create();
    await w.write(0, 0x11);
    const [s1, s2] = sids(2);
    await w.snapshot('offline', s1);
    await w.write(1, 0x22);
    await w.snapshot('offline', s2);
    await w.write(0, 0x33);

    const v = newVolume(1);
    expect(await w.driver.createVolumeFromSnapshot(v, w.ref(s2))).toEqual({ providerLocation: share });
    const file = w.file(`volume-${v.id}`);
    const chain = await qemuImgChain(file);
    expect(chain.map((l) => [l.format, l['backing-filename'] ?? null])).toEqual([['qcow2', null]]);
    // s2 was taken after 0x11 at slot 0 and 0x22 at slot 1, before 0x33 overwrote slot 0.
    expect(
      await qemuIoMismatches(file, [
        { pattern: 0x11, offset: 0, length: LEN },
        { pattern: 0x22, offset: SLOT, length: LEN },
      ]),
    ).toEqual([]);
    // The source chain is untouched: its active file still reads the newest data.
    await w.verify();
  });

  it('is grown to a larger size than the snapshot, and a second run (after a crash) keeps the copy', async ({ share }) => {
    const w = new World(share);
    await w.create();
    await w.write(0, 0x44);
    const [s1] = sids(1);
    await w.snapshot('offline', s1);
    const v = newVolume(3);
    await w.driver.createVolumeFromSnapshot(v, w.ref(s1));
    const file = w.file(`volume-${v.id}`);
    await qemuIoWrite(file, 0x55, 2 * GiB + 4096, LEN);
    await w.driver.createVolumeFromSnapshot(v, w.ref(s1));
    const [top] = await qemuImgChain(file);
    expect(top!['virtual-size']).toBe(3 * GiB);
    expect(await qemuIoMismatches(file, [{ pattern: 0x44, offset: 0, length: LEN }, { pattern: 0x55, offset: 2 * GiB + 4096, length: LEN }])).toEqual([]);
  });

  it('refuses a snapshot .info does not know, leaving no file behind', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const v = newVolume(1);
    await expect(w.driver.createVolumeFromSnapshot(v, w.ref(randomUUID()))).rejects.toThrow(/has no file/);
    expect((await fs.readdir(share)).filter((n) => n.startsWith(`volume-${v.id}`))).toEqual([]);
  });
});

describe.concurrent('cloned volumes', () => {
  it("hold the source's current data through its whole chain", async ({ share }) => {
    const w = new World(share);
    await w.create();
    await w.write(0, 0x61);
    const [s1] = sids(1);
    await w.snapshot('offline', s1);
    await w.write(1, 0x62);
    const v = newVolume(2);
    await w.driver.createClonedVolume(v, w.vol);
    const file = w.file(`volume-${v.id}`);
    const chain = await qemuImgChain(file);
    expect(chain).toHaveLength(1);
    expect(chain[0]!['virtual-size']).toBe(2 * GiB);
    expect(await qemuIoMismatches(file, [{ pattern: 0x61, offset: 0, length: LEN }, { pattern: 0x62, offset: SLOT, length: LEN }])).toEqual([]);
  });

  it('refuses a size smaller than the source', async ({ share }) => {
    const w = new World(share);
    await w.create();
    await expect(w.driver.createClonedVolume({ ...newVolume(1), size: 0 }, w.vol)).rejects.toThrow(/smaller than its source/);
  });
});

describe.concurrent('extend', () => {
  it('grows the active file, with snapshots in the chain, keeping every byte', async ({ share }) => {
    const w = new World(share);
    await w.create();
    await w.write(0, 0x71);
    const [s1] = sids(1);
    await w.snapshot('offline', s1);
    await w.write(1, 0x72);
    await w.driver.extendVolume(w.vol, 2);
    const active = await w.activeName();
    expect(active).toBe(w.snapFile(s1));
    const [top, base] = await qemuImgChain(w.file(active));
    expect([top!['virtual-size'], base!['virtual-size']]).toEqual([2 * GiB, GiB]);
    await qemuIoWrite(w.file(active), 0x73, GiB + 8192, LEN);
    expect(await qemuIoMismatches(w.file(active), [{ pattern: 0x71, offset: 0, length: LEN }, { pattern: 0x73, offset: GiB + 8192, length: LEN }])).toEqual([]);
    // Run again (a crash before the result was recorded): nothing to do, nothing lost.
    await w.driver.extendVolume(w.vol, 2);
    expect((await qemuImgChain(w.file(active)))[0]!['virtual-size']).toBe(2 * GiB);
  });

  it('refuses an attached volume with the NFS driver’s words', async ({ share }) => {
    const w = new World(share);
    await w.create();
    await expect(w.driver.extendVolume({ ...w.vol, attachStatus: 'attached' }, 2)).rejects.toThrow(`Cannot extend volume ${w.vol.id} while it is attached.`);
  });
});
