// The RemoteFS reconcile phases (reconcile.ts) on real qcow2 files: after compute's deadline, is
// the new overlay the file the instance writes to, and has a delete's merge been done? The lock
// evidence comes from a real QEMU (qemu-system-x86_64 -machine none with the image as a
// -blockdev node), compute's report from a probe; the files are read back with qemu-io.
import { promises as fs } from 'node:fs';
import { describe, expect } from 'vitest';
import type { ActiveFileProbe } from '../../../src/drivers/driver.js';
import { createRemoteFsDriver } from '../../../src/drivers/remotefs/index.js';
import { writeLockState } from '../../../src/qemu/qemu-img.js';
import { dirDigest, novaVolumeSnapshotDelete, qemuIoReads, type NovaDeleteInfo } from '../../support/qemu.js';
import { qemuHolding, type RunningQemu } from '../../support/qemu-system.js';
import { it, sids, World } from '../../support/remotefs-world.js';

/** A real QEMU with `file` open, quit when the test ends (or earlier, by the test). */
async function holding(file: string, onTestFinished: (fn: () => Promise<void>) => void): Promise<RunningQemu> {
  const q = await qemuHolding(file);
  onTestFinished(() => q.quit());
  expect(q.openFiles).toContain(file);
  return q;
}

/** A world whose driver reads compute's report through `probe`. */
function worldWith(share: string, probe?: ActiveFileProbe) {
  return new World(share, { driver: createRemoteFsDriver(share, probe ? { activeFileProbe: probe } : {}) });
}

/** An attached volume with one write, and a create begun: the overlay exists, compute was asked. */
async function begun(w: World) {
  await w.create();
  await w.write(0, 0x11);
  const [sid] = sids(1);
  await w.phase('createSnapshotAssistedBegin', sid!);
  return sid!;
}

describe.concurrent('reconciling a create', () => {
  it('QEMU writes to the new overlay: in_use, from the lock alone; complete then records it', async ({ share, onTestFinished }) => {
    const w = worldWith(share);
    const sid = await begun(w);
    // Compute did its part: the "instance" is a real QEMU with the overlay open, and writes land there.
    await w.write(1, 0x22, w.snapFile(sid));
    const qemu = await holding(w.file(w.snapFile(sid)), onTestFinished);
    expect(await writeLockState(w.file(w.snapFile(sid)))).toBe('locked');
    expect(await writeLockState(w.file(w.volumeFile))).toBe('free');

    const { reconcile } = await w.phase('reconcileCreate', sid);
    expect(reconcile).toMatchObject({
      verdict: 'in_use',
      evidence: {
        overlay: w.snapFile(sid),
        info_active: w.volumeFile,
        chain: [w.snapFile(sid), w.volumeFile],
        locks: { [w.snapFile(sid)]: 'locked', [w.volumeFile]: 'free' },
        compute: { unavailable: 'no compute status query configured' },
      },
    });
    expect(reconcile!.reason).toMatch(/is the file the instance writes to: .*write lock held on /);
    await qemu.quit();
    await w.phase('createSnapshotAssistedComplete', sid);
    expect(await w.readInfo()).toEqual({ active: w.snapFile(sid), [sid]: w.snapFile(sid) });
    // The snapshot reads the data from before the switch, the active chain everything.
    expect(await qemuIoReads(w.file(w.volumeFile), 0x11, 0, 4096)).toBe(true);
    expect(await qemuIoReads(w.file(w.snapFile(sid)), 0x22, 64 * 1024, 4096)).toBe(true);
  });

  it('QEMU still writes to the old file: rolled_back, the overlay removed, .info byte for byte as before', async ({ share, onTestFinished }) => {
    const w = worldWith(share);
    await w.create();
    const [first] = sids(1);
    await w.snapshot('offline', first!);
    await w.write(0, 0x33);
    const [sid] = sids(1);
    await w.phase('createSnapshotAssistedBegin', sid!);
    const infoBefore = await fs.readFile(w.file(`${w.volumeFile}.info`));
    const active = await w.activeName();
    const qemu = await holding(w.file(active), onTestFinished);

    const { reconcile } = await w.phase('reconcileCreate', sid!);
    expect(reconcile).toMatchObject({
      verdict: 'rolled_back',
      evidence: { locks: { [w.snapFile(sid!)]: 'free', [active]: 'locked' }, removed: w.snapFile(sid!) },
    });
    expect(reconcile!.reason).toMatch(/was never used .*; removed it, \.info unchanged$/);
    await expect(fs.stat(w.file(w.snapFile(sid!)))).rejects.toThrow(/ENOENT/);
    expect(await fs.readFile(w.file(`${w.volumeFile}.info`))).toEqual(infoBefore);
    await qemu.quit();
    expect(await qemuIoReads(w.file(active), 0x33, 0, 4096)).toBe(true);
  });

  it('nothing holds either file and no compute report: unverified, nothing touched', async ({ share }) => {
    const w = worldWith(share);
    const sid = await begun(w);
    const before = await w.digest();
    const { reconcile } = await w.phase('reconcileCreate', sid);
    expect(reconcile).toMatchObject({ verdict: 'unverified' });
    expect(reconcile!.reason).toMatch(/^nothing shows which file is in use: .*no write lock held; compute status unavailable/);
    expect(await w.digest()).toEqual(before);
  });

  it('compute\'s report decides when no QEMU runs here; a report that contradicts the locks is unverified', async ({ share, onTestFinished }) => {
    let says: string | null = null;
    const w = worldWith(share, { activeFile: async () => ({ activeFile: says, instanceId: says === null ? null : 'instance-1' }) });
    const sid = await begun(w);
    const overlay = w.snapFile(sid);

    says = overlay;
    expect((await w.phase('reconcileCreate', sid)).reconcile).toMatchObject({
      verdict: 'in_use',
      evidence: { compute: { active_file: overlay, instance_id: 'instance-1' } },
    });

    // QEMU writes to the old file while compute claims the overlay: the evidence disagrees.
    const qemu = await holding(w.file(w.volumeFile), onTestFinished);
    const before = await w.digest();
    expect((await w.phase('reconcileCreate', sid)).reconcile).toMatchObject({ verdict: 'unverified', reason: expect.stringMatching(/^the evidence disagrees/) });
    expect(await w.digest()).toEqual(before);
    await qemu.quit();

    // Compute has no instance with the volume: nobody can write to the overlay.
    says = null;
    expect((await w.phase('reconcileCreate', sid)).reconcile).toMatchObject({ verdict: 'rolled_back' });
    await expect(fs.stat(w.file(overlay))).rejects.toThrow(/ENOENT/);
    // Run again (the result was lost): still rolled back, nothing left to remove.
    expect((await w.phase('reconcileCreate', sid)).reconcile).toMatchObject({ verdict: 'rolled_back', evidence: { overlay_exists: false } });
  });

  it('an unreachable compute report is recorded as such, and the locks still decide', async ({ share, onTestFinished }) => {
    const w = worldWith(share, { activeFile: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) });
    const sid = await begun(w);
    await holding(w.file(w.snapFile(sid)), onTestFinished);
    expect((await w.phase('reconcileCreate', sid)).reconcile).toMatchObject({
      verdict: 'in_use',
      evidence: { compute: { unavailable: 'connect ECONNREFUSED 127.0.0.1:1' } },
    });
  });
});

describe.concurrent('reconciling a delete', () => {
  /** Two snapshots; the older (not the active file) is being deleted: compute commits it down. */
  async function deleting(w: World) {
    await w.create();
    const [s1, s2] = sids(2);
    await w.write(0, 0x41);
    await w.snapshot('assisted', s1!);
    await w.write(1, 0x42);
    await w.snapshot('assisted', s2!);
    await w.write(2, 0x43);
    const begun = await w.phase('deleteSnapshotAssistedBegin', s1!);
    return { s1: s1!, s2: s2!, deleteInfo: JSON.parse(begun.adminMetadata!.delete_info!) as NovaDeleteInfo };
  }

  it('the chain shows the merge done: merged; complete then removes the file', async ({ share }) => {
    const w = worldWith(share);
    const { s1, s2, deleteInfo } = await deleting(w);
    await novaVolumeSnapshotDelete(w.file(await w.activeName()), deleteInfo);
    const { reconcile } = await w.phase('reconcileDelete', s1);
    expect(reconcile).toMatchObject({ verdict: 'merged', evidence: { plan: { mode: 'commit', file_to_delete: w.snapFile(s1) } } });
    expect(reconcile!.reason).toBe(`the chain shows the merge done: ${w.snapFile(s2)} <- ${w.volumeFile}`);
    await w.phase('deleteSnapshotAssistedComplete', s1);
    expect(Object.keys((await w.readInfo())!).sort()).toEqual(['active', s2].sort());
    await expect(fs.stat(w.file(w.snapFile(s1)))).rejects.toThrow(/ENOENT/);
    // Every write reads back through the merged chain.
    for (const [slot, pattern] of [[0, 0x41], [1, 0x42], [2, 0x43]] as const) {
      expect(await qemuIoReads(w.file(w.snapFile(s2)), pattern, slot * 64 * 1024, 4096)).toBe(true);
    }
  });

  it('not merged: not_merged with the chain found, nothing touched', async ({ share }) => {
    const w = worldWith(share);
    const { s1, s2 } = await deleting(w);
    const before = await w.digest();
    const { reconcile } = await w.phase('reconcileDelete', s1);
    expect(reconcile).toMatchObject({
      verdict: 'not_merged',
      evidence: { chain: [{ file: w.snapFile(s2), backing: w.snapFile(s1) }, { file: w.snapFile(s1), backing: w.volumeFile }, { file: w.volumeFile, backing: null }] },
    });
    expect(reconcile!.reason).toBe(
      `${w.snapFile(s1)} is still in the backing chain of ${w.snapFile(s2)}; chain found: ${w.snapFile(s2)} <- ${w.snapFile(s1)} <- ${w.volumeFile}`,
    );
    expect(await w.digest()).toEqual(before);
  });

  it('no merge plan recorded: unverified', async ({ share }) => {
    const w = worldWith(share);
    await w.create();
    const [sid] = sids(1);
    await w.snapshot('assisted', sid!);
    expect((await w.phase('reconcileDelete', sid!)).reconcile).toMatchObject({ verdict: 'unverified', reason: `no merge plan was recorded for snapshot ${sid}` });
  });
});

describe.concurrent('cleanup after a failed create', () => {
  it('deleting the snapshot removes its overlay (assisted and offline), and nothing else', async ({ share }) => {
    const w = worldWith(share);
    await w.create();
    const [kept] = sids(1);
    await w.snapshot('assisted', kept!);
    await w.write(0, 0x51);
    for (const mode of ['assisted', 'offline'] as const) {
      const [failed] = sids(1);
      await w.phase('createSnapshotAssistedBegin', failed!);
      const overlay = w.snapFile(failed!);
      await fs.stat(w.file(overlay));
      const others = await dirDigest(share, (n) => n.startsWith(w.volumeFile) && n !== overlay && !n.includes('.lock'));
      if (mode === 'assisted') {
        const begin = await w.phase('deleteSnapshotAssistedBegin', failed!);
        expect(begin.skipCompute).toBe(true);
        await w.phase('deleteSnapshotAssistedComplete', failed!);
      } else {
        await w.phase('deleteSnapshot', failed!);
      }
      await expect(fs.stat(w.file(overlay)), `${mode}: overlay removed`).rejects.toThrow(/ENOENT/);
      expect(await dirDigest(share, (n) => n.startsWith(w.volumeFile) && !n.includes('.lock')), `${mode}: the rest untouched`).toEqual(others);
    }
    await w.verify('after both cleanups');
  });

  it('an overlay that a chain uses is kept, and the delete says why', async ({ share }) => {
    const w = worldWith(share);
    await w.create();
    const [failed] = sids(1);
    await w.phase('createSnapshotAssistedBegin', failed!);
    // A hand repair pointed .info's active file at the overlay without recording the snapshot.
    await fs.writeFile(w.file(`${w.volumeFile}.info`), JSON.stringify({ active: w.snapFile(failed!) }));
    await expect(w.driver.deleteSnapshot(w.ref(failed!))).rejects.toThrow(/refusing to remove .*: \.info of volume .* still references it/);
    await fs.stat(w.file(w.snapFile(failed!)));
  });
});
